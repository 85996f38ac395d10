"""`make mutate`: mutation testing of the core modules, each against the tests that prove it.

Each module is mutated by mutmut in its own staged copy of the project under
`build/mutate/<module>/` (mutmut reads its settings from the working directory's
pyproject.toml, and a module's own test files keep a run on two cores within minutes).
Mutants the type checker rejects count as killed, as `make test` runs it too. Mutants
listed in `tests/mutation-equivalents.toml` with the reason they cannot change behaviour
are left out of the score. The script prints each module's score and its surviving
mutants, and fails when a module scores under the bar.

    python -m tests.mutate                      # every module
    python -m tests.mutate edge_common/outbox.py   # one (or more) of them
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGE = ROOT / "build" / "mutate"
EQUIVALENTS = ROOT / "tests" / "mutation-equivalents.toml"
BAR = 0.90
PACKAGES = ("central", "edge_common", "kiosk", "libedge_cli", "lockd", "patron_ui",
            "provisioning", "returnbox", "signpad")

# The module, and the test files that prove it (run for each mutant that they reach).
MODULES: dict[str, tuple[str, ...]] = {
    "edge_common/outbox.py": ("tests/test_outbox.py",),
    "edge_common/commands.py": ("tests/test_commands.py",),
    "edge_common/replica.py": ("tests/test_replica.py",),
    "central/ingest.py": ("tests/test_ingest.py",),
    "edge_common/access.py": ("tests/test_lockd_rules.py",),
    "lockd/daemon.py": (
        "tests/test_lockd_doors.py",
        "tests/test_daemon_cli.py::test_a_start_that_fails_half_way_still_stops_what_it_started",
        "tests/test_lockd_daemon.py::"
        "test_a_lost_reader_is_an_alarm_until_every_reader_of_the_door_is_back",
        "tests/test_device_config.py",
        "tests/test_site_keys.py",
    ),
    "central/circulation/loans.py": ("tests/test_circ_checkout.py",
                                     "tests/test_circ_interbranch.py", "tests/test_circ_stats.py",
                                     "tests/test_circ_renewals.py",
                                     "tests/test_circ_staff_cli.py"),
    "central/circulation/accounts.py": (
        "tests/test_circ_accounts.py", "tests/test_circ_debt_scope.py",
        "tests/test_circ_money_books.py::"
        "test_editing_a_payment_whose_credit_was_spent_reopens_what_the_credit_paid",
        "tests/test_circ_money_books.py::"
        "test_a_shortfall_takes_back_the_newest_credit_settlements_first_and_only_as_much",
        "tests/test_circ_money_books.py::test_a_credit_payment_is_never_edited_into_money",
        "tests/test_circ_money_books.py::"
        "test_credit_settles_only_the_debts_of_the_branch_it_was_paid_at"),
    "kiosk/central_backend.py": ("tests/test_kiosk_central.py", "tests/test_circ_device_api.py",
                                 "tests/test_kiosk_email.py"),
    "patron_ui/accounts.py": ("tests/test_kiosk_central.py", "tests/test_circ_device_api.py"),
    "kiosk/session.py": ("tests/test_kiosk_session.py",),
    "edge_common/datasync.py": ("tests/test_datasync.py",),
    "central/site_keys.py": ("tests/test_fleet_rules.py",),
    "central/invitations.py": ("tests/test_fleet_rules.py",),
    "central/fleet.py": ("tests/test_fleet_rules.py",),
    "central/circulation/seal.py": ("tests/test_seal.py",),
    "central/circulation/form_archive.py": ("tests/test_form_archive.py",
                                            "tests/test_erasure.py"),
    "central/web/staff/now.py": tuple(f"tests/test_web_now.py::test_{name}" for name in (
        "who_is_inside_shows_counts_and_card_hashes",
        "staff_who_may_only_look_cannot_act_and_forms_need_their_token",
        "lockdown_and_sweep_from_the_page_reach_the_lock",
        "staff_of_another_branch_cannot_command_its_doors_or_alarms",
        "alarm_forms_acknowledge_then_clear_and_another_branch_sees_none_of_it",
        "a_door_command_is_only_asked_about_until_confirmed",
        "a_card_holder_is_named_only_from_a_well_formed_hash_of_the_own_branch",
        "a_return_box_alarm_is_dealt_with_on_the_page_but_a_box_takes_no_door_command",
        "a_lock_that_never_reported_shows_no_door_and_takes_no_command",
    )) + ("tests/test_web_hardening.py::test_the_done_box_shows_only_what_the_page_did",),
    "central/web/auth.py": tuple(f"tests/test_web_auth.py::test_{name}" for name in (
        "a_new_password_ends_every_session",
        "signing_out_ends_the_session_on_the_server",
        "a_refused_sign_in_says_why_and_its_page_signs_in",
        "a_page_shows_a_branch_the_staff_member_works_at_else_a_refusal",
        "forms_without_the_session_token_are_refused",
        "roles_and_branches_confine_what_staff_see",
        "oversized_forms_are_refused_with_a_code",
        "forms_are_taken_up_to_their_bounds_and_refused_beyond",
        "a_form_declared_too_large_is_refused_before_its_body_is_read",
        "each_server_thread_keeps_one_store",
        "cookies_are_secure_behind_a_tls_proxy",
        "unknown_names_are_answered_exactly_like_known_ones",
        "one_source_guessing_many_names_must_wait_too",
        "guesses_at_an_account_never_lock_its_owner_out",
    )) + ("tests/test_web_now.py::"
          "test_a_card_holder_is_named_only_from_a_well_formed_hash_of_the_own_branch",),
    "central/circulation/signin.py": ("tests/test_staff_signin.py",),
    "provisioning/enrol.py": ("tests/test_enrol.py",),
}

# Lines whose mutants change only what a log line says, never what the code does.
NOT_MUTATED = [r"^\s*log\.(debug|info|warning|error|exception)\("]

KILLED = {"killed", "caught by type check", "timeout"}


@dataclass
class Score:
    """What mutmut found for one module."""

    module: str
    statuses: dict[str, str] = field(default_factory=dict)
    equivalent: dict[str, str] = field(default_factory=dict)

    @property
    def counted(self) -> dict[str, str]:
        """Statuses of the mutants that count: all but the explained equivalents."""
        return {k: v for k, v in self.statuses.items() if k not in self.equivalent}

    @property
    def killed(self) -> int:
        """How many counted mutants a test or the type checker killed."""
        return sum(1 for v in self.counted.values() if v in KILLED)

    @property
    def ratio(self) -> float:
        """Killed over counted (1.0 for a module with nothing to mutate)."""
        return self.killed / len(self.counted) if self.counted else 1.0

    @property
    def survivors(self) -> list[str]:
        """Counted mutants nothing killed, with how they got away."""
        return sorted(f"{k}: {v}" for k, v in self.counted.items() if v not in KILLED)


def stage(module: str) -> Path:
    """Copy the tracked project into the module's staging folder with its mutmut settings."""
    work = STAGE / module.replace("/", ".").removesuffix(".py")
    work.mkdir(parents=True, exist_ok=True)
    tracked = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                             check=True, capture_output=True, text=True).stdout.split()
    for name in tracked:
        source, target = ROOT / name, work / name
        if not source.is_file():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or target.read_bytes() != source.read_bytes():
            shutil.copy2(source, target)
    package = module.split("/")[0]
    settings = {
        "source_paths": [package],
        "only_mutate": [module],
        "also_copy": [p for p in PACKAGES if p != package],
        "pytest_add_cli_args_test_selection": list(MODULES[module]),
        "pytest_add_cli_args": ["-p", "no:cacheprovider", "-p", "no:randomly", "-x", "-q"],
        "do_not_mutate_patterns": NOT_MUTATED,
        "type_check_command": [sys.executable, "-m", "mypy", "--output", "json",
                               "--no-warn-unused-ignores", package],
    }
    pyproject = (ROOT / "pyproject.toml").read_text()
    lines = [f"{key} = {toml_value(value)}" for key, value in settings.items()]
    (work / "pyproject.toml").write_text(pyproject + "\n[tool.mutmut]\n" + "\n".join(lines) + "\n")
    return work


def toml_value(value: object) -> str:
    """A list of strings or a string as TOML (the settings above need no more)."""
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def mutate(module: str, children: int) -> Score:
    """Run mutmut on one module and read back every mutant's status."""
    work = stage(module)
    shutil.rmtree(work / "mutants", ignore_errors=True)   # mutmut keeps earlier verdicts
    env = {**os.environ, "PYTHONPATH": str(work)}
    subprocess.run([sys.executable, "-m", "mutmut", "run", "--max-children", str(children)],
                   cwd=work, env=env, check=False, stdout=subprocess.DEVNULL)
    listing = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"],
                             cwd=work, env=env, check=True, capture_output=True, text=True).stdout
    score = Score(module)
    for line in listing.splitlines():
        found = re.match(r"\s*(\S+): (.+)$", line)
        if found:
            score.statuses[found[1]] = found[2].strip()
    explained = tomllib.loads(EQUIVALENTS.read_text()) if EQUIVALENTS.exists() else {}
    score.equivalent = {k: v for k, v in explained.get(module, {}).items()
                        if k in score.statuses}
    return score


def main() -> int:
    """Mutate the chosen modules (all by default) and print the scores."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", default=list(MODULES), choices=list(MODULES),
                        metavar="MODULE")
    parser.add_argument("--children", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    scores = [mutate(module, args.children) for module in args.modules]
    print("\n| module | mutants | equivalent | killed | score |")
    print("|---|---|---|---|---|")
    for s in scores:
        print(f"| `{s.module}` | {len(s.statuses)} | {len(s.equivalent)} | {s.killed} | "
              f"{s.ratio:.0%} |")
    for s in scores:
        if s.survivors:
            print(f"\n{s.module}: {len(s.survivors)} not killed (mutmut show NAME in "
                  f"{STAGE / s.module.replace('/', '.').removesuffix('.py')})")
            print("\n".join(f"  {line}" for line in s.survivors))
    short = [s.module for s in scores if s.ratio < BAR]
    if short:
        print(f"\nunder {BAR:.0%}: {', '.join(short)}")
    return 1 if short else 0


if __name__ == "__main__":
    sys.exit(main())
