"""The planning domains that ship in the package: the project's one-shot examples parse, solve, and name their domain."""

from __future__ import annotations

import pytest

from ratiocinator.agents.llmp import available_domains, load_domain, vocabulary
from ratiocinator.agents.llmp.domain import guess_domain
from ratiocinator.datadirs import PACKAGED

SHIPPED = PACKAGED / "planning"
DOMAINS = ("barman", "blocksworld", "floortile", "grippers", "manipulation", "storage", "termes", "tyreworld")


def test_every_domain_ships_its_pddl_english_and_one_shot_example():
    assert sorted(d.name for d in SHIPPED.iterdir() if d.is_dir()) == list(DOMAINS)
    for name in DOMAINS:
        domain = load_domain(SHIPPED / name)
        assert domain.pddl and domain.nl and domain.example_nl and domain.example_pddl, name
        assert f"(:domain {domain.pddl_name})" in domain.example_pddl.lower(), name
        assert vocabulary(domain).predicates, name  # unified-planning reads the domain with its example
    assert load_domain(SHIPPED / "tyreworld").validation_pddl
    licences = (PACKAGED / "README.md").read_text()
    assert "Apache-2.0" in licences and "llm-pddl" in licences


def test_each_example_text_is_recognised_as_its_own_domain():
    domains = available_domains(SHIPPED)
    for domain in domains:
        assert guess_domain(domain.example_nl, domains).name == domain.name


@pytest.mark.slow
@pytest.mark.parametrize("name", DOMAINS)
def test_each_one_shot_example_is_solvable_and_the_plan_validates(name):
    from ratiocinator.solvers.pddl import solve

    result = solve(SHIPPED / name / "domain.pddl", SHIPPED / name / "p_example.pddl", timeout=120)
    assert result.solved and result.validated, result.message
