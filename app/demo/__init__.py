"""``okr demo``: a sample organisation, a simulated quarter of check-ins, the rollup tree.

``run_demo`` (app.demo.run) runs the phases listed in ``app.demo.phases.PHASES``; they
share a ``DemoContext`` (app.demo.context).
"""
