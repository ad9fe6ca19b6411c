"""Verdicts on claims, shared by the three analyses.

A verdict is one word from a defined scale (:data:`VERDICT_SCALE`, printed with
its definitions in every report), the rule that produced it, the two or three
facts that decide it, and the evidence behind it.

**Source independence.** A claimant is never a source for their own claim. Each
claim names the organisations it originates from (``claimant_orgs`` in
``claims.csv``); each register figure names the organisation that produced the
number (``originator`` in ``figures.csv``, defaulting to ``source_org``). A
figure whose originator is one of the claimant organisations, or a report that
only quotes the claimant, is *not independent*; nor is a provider's report on itself (a
``source_org`` marked "self-reported"). A verdict of ``supported`` or
``partly supported`` needs at least one independent register row or an
analysis of a catalogued public dataset; :class:`Verdict` refuses otherwise.
The rule is asymmetric: the claimant's own records can count *against* its
claim (``contradicted``: an admission against interest), never for it.

Every rule that produces a verdict is written next to the claim it judges, in
the domain's ``claims`` module, and is printed with the verdict.

**Kinds of claim.** ``claims.csv`` records each claim's ``kind`` (outcome, audit
finding or programme; see :data:`analysis.data.evidence.CLAIM_KINDS`). A verdict
carries its kind's group label (:data:`KIND_GROUPS`), and every report's key
finding, verdict section and run-index entry tally verdicts by kind
(:func:`verdict_groups`), so that "supported" on a programme fact or on an
auditor's finding is not read as support for what the reform achieves.

**Whose records.** "Not testable with public data" and "unsourced" say nothing
about who holds records of the claim. When the only records of it besides the
claim itself are the claimant's own (or a provider's report on itself), the
verdict carries a qualifier derived from the evidence register
(:func:`own_records_qualifier`), shown beside the label wherever the label is
shown: "unsourced (the only records are the claimant's own)" reads as a claim
whose only backing is the claimant's own surveys, not as one made up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

VERDICT_SCALE: dict[str, str] = {
    "supported": "Independent evidence (not from the claimant or sources quoting the claimant) agrees with the "
                 "claim as worded.",
    "partly supported": "Independent evidence agrees with part of the claim or with a weaker version of it; the "
                        "rest is untested or overstated.",
    "mixed evidence": "Independent evidence points both ways: some findings agree with the claim and others do not.",
    "contradicted": "Independent evidence, or the claimant's own records, disagree with the claim as worded (a "
                    "claimant's own records can count against its claim, never for it).",
    "misattributed": "The figure exists, but it belongs to a different organisation, programme, period or "
                     "population from the one the claim gives it.",
    "not testable with public data": "Neither a public dataset nor an independent published figure can test the "
                                     "claim as worded; the nearest evidence is shown.",
    "unsourced": "The claim cites no study, and no source independent of the claimant has been found for it.",
}
VERDICTS = tuple(VERDICT_SCALE)

INDEPENDENCE_RULE = ("A claimant, or a source that only quotes the claimant, is never evidence for their own claim; "
                     "the rule runs one way, so a claimant's own records can contradict its claim (an admission "
                     "against interest) but never support it. Where the only records of a claim, besides the claim "
                     "itself, are the claimant's own or a provider's report on itself, the label says so.")
"""The source-independence rule as printed under the verdict scale in every report."""
NEEDS_INDEPENDENT_EVIDENCE = ("supported", "partly supported")

KIND_RANK = {"outcome": 0, "audit finding": 1, "programme": 2}
"""Where each kind of claim comes in a tally: claims about what a reform achieves lead."""

KIND_GROUPS: dict[tuple[str, str], str] = {
    ("personal_budgets", "outcome"): "about what budgets do for people (control, quality of life, cost)",
    ("personal_budgets", "programme"): "programme facts (pilots, counts, take-up, a school, a report's date), an "
                                       "opinion or a rhetorical illustration",
    ("mutuals", "outcome"): "about what mutuals achieve (productivity, satisfaction, staff views, quality, cost)",
    ("mutuals", "programme"): "programme facts and forecasts (counts of mutuals, staff, councils and contracts; what "
                              "the government set up or announced)",
    ("nao_vfm", "outcome"): "about what mutuals deliver (the Department of Health's claim on NHS savings)",
    ("nao_vfm", "audit finding"): "the National Audit Office's own findings of risks and gaps in the programme (value "
                                  "at risk, contract terms, objectives, dependence on PCTs)",
}
"""The group label of each (topic, kind) in ``claims.csv``, worded to follow "2 are ..."; a test checks every pair
in the register has one."""

NOT_TESTABLE = "not testable with public data"
QUALIFIED = (NOT_TESTABLE, "unsourced")
"""Verdicts that carry the own-records qualifier when the register allows (:func:`own_records_qualifier`)."""
OWN_RECORDS = {"claimant": "the claimant's own", "provider": "providers' reports on themselves",
               "both": "the claimant's own or providers' reports on themselves"}


def _orgs(text: Any) -> set[str]:
    """Organisation names from a ';'-separated cell, normalised for comparison."""
    if text is None or (isinstance(text, float) and text != text):
        return set()
    return {part.strip().casefold() for part in str(text).split(";") if part.strip()}


def independent_rows(rows: pd.DataFrame, claimant_orgs: Any) -> pd.DataFrame:
    """The register rows whose figure does not originate with the claimant."""
    claimants = _orgs(claimant_orgs)
    if rows.empty:
        return rows
    origin = rows["originator"] if "originator" in rows else pd.Series(index=rows.index, dtype=object)
    origin = origin.where(origin.notna(), rows["source_org"])
    # A provider reporting on itself ("CSH Surrey (self-reported)", or an outlet passing on a figure whose
    # originator is the organisation it is about) is an interested party, not independent evidence about the
    # claims made for providers like it.
    self_reported = rows["source_org"].fillna("").astype(str).str.contains("self-reported", case=False)
    subject = rows["group"] if "group" in rows else pd.Series(index=rows.index, dtype=object)
    about_itself = [_reports_on_itself(o, g) for o, g in zip(origin, subject)]
    keep = [not (_orgs(o) & claimants) and not own and not itself
            for o, own, itself in zip(origin, self_reported, about_itself)]
    return rows[keep]


def _reports_on_itself(originator: Any, subject: Any) -> bool:
    """Whether a figure's originator is the organisation the figure is about ('CSH Surrey' reporting on 'Central
    Surrey Health (CSH Surrey)'), whoever published it."""
    if not isinstance(originator, str) or not isinstance(subject, str) or not originator.strip():
        return False
    return originator.strip().casefold() in subject.casefold()


def own_records_qualifier(verdict: str, rows: pd.DataFrame, claim: Mapping[str, Any],
                          datasets: Sequence[str] = ()) -> str:
    """'the only records are the claimant's own', for a claim not testable with public data, or unsourced, whose
    only records besides the claim itself originate with the claimant (or are a provider's report on itself); ''
    otherwise.

    Derived from the evidence register: the rows cited for the claim, less those published at the claim's own
    address (the article that makes it), must be non-empty and all not independent (:func:`independent_rows`).
    For 'not testable with public data' no catalogued dataset may have been analysed for it either (the dataset
    would then be the nearest evidence); an 'unsourced' verdict means no dataset could source the claim, so any
    analysed are context. A label-only reader then knows the claim is not unrecorded or made up, only recorded by
    an interested party.
    """
    if verdict not in QUALIFIED or (verdict == NOT_TESTABLE and datasets) or rows.empty:
        return ""
    urls = rows["source_url"] if "source_url" in rows else pd.Series("", index=rows.index)
    records = rows[urls.fillna("").astype(str) != str(claim.get("source_url") or "")]
    if records.empty or not independent_rows(records, claim.get("claimant_orgs")).empty:
        return ""
    origin = records["originator"] if "originator" in records else records["source_org"]
    origin = origin.where(origin.notna(), records["source_org"])
    claimants = _orgs(claim.get("claimant_orgs"))
    by_claimant = [bool(_orgs(o) & claimants) for o in origin]
    who = "claimant" if all(by_claimant) else "provider" if not any(by_claimant) else "both"
    return f"the only records are {OWN_RECORDS[who]}"


@dataclass(frozen=True)
class Verdict:
    claim_id: str
    claim: str
    speaker: str
    date: str
    verdict: str
    rule: str
    numbers: str
    evidence_ids: tuple[str, ...]
    sources: tuple[str, ...] = field(default_factory=tuple)
    independent_ids: tuple[str, ...] = field(default_factory=tuple)
    datasets: tuple[str, ...] = field(default_factory=tuple)
    summary: str = ""
    group: str = ""
    """The kind of claim, worded to follow "2 are ..." (e.g. "about what budgets do for people"): a report that
    tallies its verdicts by kind sets it, and the run index then tallies them the same way (:func:`verdict_groups`)."""
    group_rank: int = 0
    """Where the group comes in the tally (lowest first), so the groups a report leads with lead in the index too."""
    kind: str = ""
    """The kind of claim from ``claims.csv`` (outcome, audit finding or programme); sets ``group``."""
    qualifier: str = ""
    """Shown beside the label ('the only records are the claimant's own'): see :func:`own_records_qualifier`."""

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")
        if self.verdict in NEEDS_INDEPENDENT_EVIDENCE and not (self.independent_ids or self.datasets):
            raise ValueError(
                f"{self.claim_id}: '{self.verdict}' needs independent evidence (a register row not originating with "
                "the claimant, or an analysis of a catalogued dataset); the rows cited "
                f"({', '.join(self.evidence_ids)}) all originate with the claimant")

    @classmethod
    def for_claim(cls, claim: dict[str, Any], verdict: str, rule: str, numbers: str,
                  rows: pd.DataFrame, *, datasets: tuple[str, ...] = (), summary: str = "") -> Verdict:
        """A verdict on a claims.csv row, citing the evidence-register ``rows`` behind it.

        ``datasets`` names the catalogued datasets whose analysis bears on the verdict (independent
        by construction); ``summary`` is the one or two sentences that decide it (``numbers`` is the detail).
        """
        independent = independent_rows(rows, claim.get("claimant_orgs"))
        kind = str(claim.get("kind") or "")
        group = KIND_GROUPS.get((str(claim.get("topic") or ""), kind), "") if kind else ""
        if kind and not group:
            raise ValueError(f"{claim['claim_id']}: no group label for kind {kind!r} of topic {claim.get('topic')!r} "
                             "(analysis.claims.KIND_GROUPS)")
        return cls(claim["claim_id"], claim["claim_text"], claim["speaker"], claim["date"], verdict, rule, numbers,
                   tuple(rows["id"]), sources_of(rows), tuple(independent["id"]), tuple(datasets), summary,
                   group=group, group_rank=KIND_RANK.get(kind, 0), kind=kind,
                   qualifier=own_records_qualifier(verdict, rows, claim, datasets))

    @property
    def label(self) -> str:
        """The verdict as shown: 'not testable with public data (the only records are the claimant's own)'."""
        return f"{self.verdict} ({self.qualifier})" if self.qualifier else self.verdict

    def record(self) -> dict[str, Any]:
        """What the run records of this verdict for the index: claim, verdict and, when set, its group and
        qualifier."""
        entry: dict[str, Any] = {"claim_id": self.claim_id, "verdict": self.verdict}
        if self.group:
            entry.update(group=self.group, group_rank=self.group_rank)
        if self.qualifier:
            entry["qualifier"] = self.qualifier
        return entry

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for key in ("evidence_ids", "independent_ids", "datasets"):
            d[key] = "; ".join(d[key])
        d["sources"] = "; ".join(self.sources)
        return d


def verdict_table(verdicts: list[Verdict]) -> pd.DataFrame:
    """A table for reports: claim, who/when, verdict, why, numbers, evidence."""
    rows = [v.as_dict() for v in verdicts]
    df = pd.DataFrame(rows, columns=["claim_id", "claim", "speaker", "date", "kind", "verdict", "qualifier", "summary",
                                     "rule",
                                     "numbers", "evidence_ids", "independent_ids", "datasets", "sources"])
    return df


def verdict_counts(verdicts: list[Verdict]) -> dict[str, int]:
    """How many claims got each verdict, in scale order (for the index and key findings)."""
    counts = {v: 0 for v in VERDICTS}
    for verdict in verdicts:
        counts[verdict.verdict] += 1
    return {k: n for k, n in counts.items() if n}


def verdict_count_phrase(verdicts: list[Verdict]) -> str:
    """'5 supported, 2 partly supported and 2 mixed evidence': the counts in scale order, for a sentence."""
    parts = [f"{n} {v}" for v, n in verdict_counts(verdicts).items()]
    if not parts:
        return "none"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _and_list(parts: list[str]) -> list[str]:
    """The separators after each part of 'a, b and c' ('' after the last)."""
    return [", " if i < len(parts) - 2 else " and " if i == len(parts) - 2 else "" for i in range(len(parts))]


@dataclass(frozen=True)
class VerdictGroup:
    """The verdicts on one kind of claim, counted in scale order.

    ``text`` ("2 are about what budgets do for people: 2 mixed evidence") is what a report's key finding says;
    the run index shows ``lead`` and ``items`` (each count with its qualifier note and the separator after it), so
    the two read alike. A report that does not group its verdicts has one group with no label.
    """

    label: str
    counts: tuple[tuple[str, int], ...]
    notes: tuple[tuple[str, str], ...] = ()
    """(verdict, note) for verdicts some of which carry a qualifier: 'the only records are the claimant's own' when
    all of that verdict's claims carry it, 'for 2, the only records are the claimant's own' when only some do."""

    @property
    def n(self) -> int:
        return sum(count for _, count in self.counts)

    @property
    def lead(self) -> str:
        """'2 are about what budgets do for people', or '' for a report that does not group its verdicts."""
        return f"{self.n} {'is' if self.n == 1 else 'are'} {self.label}" if self.label else ""

    @property
    def parts(self) -> list[tuple[str, int, str]]:
        """(verdict, count, separator after it), so that joined they read '4 supported and 3 partly supported'."""
        seps = _and_list([v for v, _ in self.counts])
        return [(v, n, sep) for (v, n), sep in zip(self.counts, seps)]

    @property
    def items(self) -> list[tuple[str, int, str, str]]:
        """(verdict, count, note, separator): ``parts`` with each verdict's qualifier note ('' if none)."""
        notes = dict(self.notes)
        return [(v, n, notes.get(v, ""), sep) for v, n, sep in self.parts]

    @property
    def phrase(self) -> str:
        """'2 supported and 4 not testable with public data (for 2, the only records are the claimant's own)'."""
        return "".join(f"{n} {v}{f' ({note})' if note else ''}{sep}" for v, n, note, sep in self.items) or "none"

    @property
    def text(self) -> str:
        return f"{self.lead}: {self.phrase}" if self.label else self.phrase


def _get(verdict: Verdict | Mapping[str, Any], name: str, default: Any = "") -> Any:
    if isinstance(verdict, Mapping):
        return verdict.get(name, default)
    return getattr(verdict, name, default)


def _note(total: int, qualifiers: list[str]) -> str:
    """The note on a tally of ``total`` verdicts of which ``qualifiers`` (non-empty ones) carry a qualifier."""
    tally: dict[str, int] = {}
    for q in qualifiers:
        tally[q] = tally.get(q, 0) + 1
    if len(tally) == 1 and sum(tally.values()) == total:
        return next(iter(tally))
    return "; ".join(f"for {n}, {q}" for q, n in sorted(tally.items(), key=lambda item: -item[1]))


def verdict_groups(verdicts: Sequence[Verdict | Mapping[str, Any]]) -> list[VerdictGroup]:
    """Verdicts tallied by the kind of claim (their ``group``), groups by ``group_rank`` then first appearance.

    Takes :class:`Verdict` objects (a report's key finding) or the entries the run records
    (:meth:`Verdict.record`, read back from run.json by the index), so both tally the same way. A verdict's
    ``qualifier`` becomes a note on its count (:attr:`VerdictGroup.notes`).
    """
    order: dict[str, tuple[int, int]] = {}
    members: dict[str, list[tuple[str, str]]] = {}
    for i, v in enumerate(verdicts):
        label = str(_get(v, "group") or "")
        order.setdefault(label, (int(_get(v, "group_rank", 0) or 0), i))
        members.setdefault(label, []).append((str(_get(v, "verdict")), str(_get(v, "qualifier") or "")))
    groups = []
    for label in sorted(order, key=order.__getitem__):
        counts = {v: 0 for v in VERDICTS}
        extra: dict[str, int] = {}
        qualified: dict[str, list[str]] = {}
        for verdict, qualifier in members[label]:
            if verdict in counts:
                counts[verdict] += 1
            else:
                extra[verdict] = extra.get(verdict, 0) + 1
            if qualifier:
                qualified.setdefault(verdict, []).append(qualifier)
        ordered = [(v, n) for v, n in counts.items() if n] + sorted(extra.items())
        notes = tuple((v, _note(n, qualified[v])) for v, n in ordered if v in qualified)
        groups.append(VerdictGroup(label, tuple(ordered), notes))
    return groups


def grouped_in_order(verdicts: Sequence[Verdict]) -> list[tuple[VerdictGroup, list[Verdict]]]:
    """Each group of :func:`verdict_groups` with its verdicts in their original order (for a report's verdict
    section, which shows the claims kind by kind under the same tally the key finding gives)."""
    return [(g, [v for v in verdicts if (v.group or "") == g.label]) for g in verdict_groups(verdicts)]


def scale_table() -> pd.DataFrame:
    """The verdict scale with its definitions, printed in every report that gives verdicts."""
    return pd.DataFrame({"verdict": list(VERDICT_SCALE), "meaning": list(VERDICT_SCALE.values())})


def claim_row(claims: pd.DataFrame, claim_id: str) -> dict[str, Any]:
    match = claims[claims["claim_id"] == claim_id]
    if match.empty:
        raise KeyError(f"Claim {claim_id} is not in data/evidence/claims.csv")
    return match.iloc[0].to_dict()


def sources_of(rows: pd.DataFrame) -> tuple[str, ...]:
    return tuple(f"{r.id}: {r.source_org or r.source_title} ({r.year}; {r.verification})"
                 for r in rows.itertuples())
