"""The demo's sample organisation is a valid import file in the right fiscal quarter."""

from __future__ import annotations

from app.calendar import fiscal as calendar
from app.demo.context import DEMO_NOW
from app.demo.phases import sample_text
from app.demo.simulate import PLANS
from app.services.data.imports import load


def test_sample_file_is_valid_and_in_the_gitlab_fiscal_quarter() -> None:
    doc = load.parse(sample_text()).document
    assert doc.settings is not None and doc.settings.fiscal_year_start_month == 2
    (_, cycle), = doc.cycles
    window = calendar.fiscal_quarter(cycle.name, 2)
    assert (cycle.start, cycle.end) == (window.start, window.end)
    assert calendar.quarter_name(DEMO_NOW.date(), 2) == cycle.name
    assert len(doc.people) == 12
    assert len({p.tz for _, p in doc.people}) >= 3
    kinds = [t.kind for _, t in doc.teams]
    assert (kinds.count("company"), kinds.count("department"), kinds.count("team")) == (1, 2, 3)
    # Every simulated plan names a KR of the sample.
    assert set(PLANS) <= {kr.id for _, _, kr in doc.key_results}
