"""Verdicts on the claims that council unit costs and NHS payments to CICs bear on.

Rules (applied in ``assess_claims``, printed with each verdict):

* **"Productivity up to 45%"** (CL-MUT-01): *unsourced*. The minister cited no study;
  the nearest published figure is one mutual's own, unaudited report of 10-44% gains
  (Central Surrey Health, MUT-063), which is not an independent measurement of mutuals
  in general. Public council unit costs compare in-house provision with *all* external
  providers, so they cannot stand in for it; the within-council cost ratios are shown
  as the size of cost gaps between providers, with why they are not productivity.
* **Counts and values of mutuals** (CL-MUT-03 "65 live mutuals ... around £1bn";
  CL-MUT-08 "53 mutual organisations providing services to the NHS"): *not testable
  with public data*; no public register of mutuals exists. The NHS payments to CICs
  are shown as the nearest public bound (a CIC is a legal form, not a mutual).
* **"Proven track record ... quality ... cost effectively"** (CL-MUT-09): judged on the
  *difference* in the share of services rated Good or Outstanding, third sector minus
  council-run, with its Newcombe hybrid-score interval, in the latest CQC year in the data
  (the earlier snapshot set beside the costs is shown as context), never on whether two
  separate intervals overlap. *Mixed evidence* when the third sector is rated clearly lower
  (the interval of the difference lies wholly below zero) in either setting, or external
  providers do not cost councils less per unit; *partly supported* when the third sector is
  not clearly lower in either setting and external providers as a whole cost councils less
  per unit: a weaker claim in every case, because public data cannot separate social
  enterprises from other third-sector providers, the cost comparison is of all external
  providers (mostly for-profit), unit cost is not value for money, and "more responsive" is
  untested. *Not testable with public data* when no ratings by ownership are available.
* **Programme facts** (CL-MUT-10 "40 services ... contracts worth almost £1 billion"):
  each figure is *confirmed* when an outlet independent of the claimant agrees within 10%.
  *Supported* when every figure is confirmed; *partly supported* when some are (here the
  NAO confirms the value, £0.9bn a year, but "40 services" rests only on a copy of a
  government text, and the NAO expected 50 enterprises by September 2011, NAO-002);
  *unsourced* when none is. The recorded NHS payments to CICs are shown beside it as a
  partial check.

A claimant is never evidence for their own claim; the catalogued datasets analysed
count as independent evidence (``datasets=``).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import confint_proportions_2indep

from analysis.claims import Verdict, claim_row, independent_rows
from analysis.costs.cic import PRIMARY_CARE_RULE
from analysis.data.evidence import evidence_rows
from analysis.mutuals import ratings
from analysis.precision import decimals, fmt, fmt_interval

CLAIM_IDS = ("CL-MUT-01", "CL-MUT-03", "CL-MUT-08", "CL-MUT-09", "CL-MUT-10")
COST_DATASETS = ("pss_unit_costs_2008_09", "pss_unit_costs_2013_14", "ascfr_unit_costs_2014_15")
CIC_DATASET = ("nhs_cic_supplier_audit",)
COUNT_ROWS = ("MUT-080", "NAO-028")  # register rows giving the number of Right to Request services
NAO_EXPECTED_COUNT = "NAO-002"  # the NAO's own count: 50 enterprises expected to be operating by September 2011
SETTINGS = ("care homes", "community services")


DIFFERENCE_COLUMNS = ["setting", "year", "diff", "ci_low", "ci_high", "n_third", "n_council", "share_third",
                      "councils", "councils_year", "per_council", "break_even_correlation"]


def rating_differences(quality: pd.DataFrame, level: float,
                       councils: dict[tuple[str, int], tuple[int, int]] | None = None) -> pd.DataFrame:
    """Third sector minus council-run share rated Good or Outstanding, in percentage points, by setting and year.

    ``quality`` is ``ratings.good_share_by_year`` output (counts ``good`` of ``total``). The interval is
    Newcombe's hybrid score interval for a difference of two independent proportions (his method 10,
    statsmodels ``confint_proportions_2indep(method="newcomb")``): a difference is stated only when this
    interval excludes zero, never because two separate intervals fail to overlap.

    That interval treats every council-run service as independent. ``councils`` maps (setting, year) to the
    number of councils running that setting in-house and the year of the activity returns counted; with it, each
    row also carries ``break_even_correlation``, the correlation between one council's services above which the
    difference stops being clear (``ratings.snapshot_clustering``: missing if not clear anyway, infinite if it stays
    clear with each council counted once).
    """
    rows = []
    if quality.empty:
        return pd.DataFrame(columns=DIFFERENCE_COLUMNS)
    q = quality.set_index(["setting", "year", "ownership"])
    for (setting, year), _ in quality.groupby(["setting", "year"], sort=True, observed=True):
        if setting not in SETTINGS:
            continue
        try:
            third, council = q.loc[(setting, year, "third sector")], q.loc[(setting, year, "local authority")]
        except KeyError:
            continue
        if min(third["total"], council["total"]) <= 0:
            continue
        low, high = confint_proportions_2indep(third["good"], third["total"], council["good"], council["total"],
                                               method="newcomb", compare="diff", alpha=1 - level)
        diff = third["good"] / third["total"] - council["good"] / council["total"]
        row = {"setting": setting, "year": int(year), "diff": 100 * diff, "ci_low": 100 * low,
               "ci_high": 100 * high, "n_third": int(third["total"]), "n_council": int(council["total"]),
               "share_third": 100 * third["good"] / third["total"], "councils": np.nan, "councils_year": np.nan,
               "per_council": np.nan, "break_even_correlation": np.nan}
        if councils and (setting, int(year)) in councils:
            n, used = councils[(setting, int(year))]
            check = ratings.snapshot_clustering(third["good"], third["total"], council["good"], council["total"], n,
                                                level)
            row.update(councils=n, councils_year=used, per_council=check["per_council"],
                       break_even_correlation=check["break_even_correlation"])
        rows.append(row)
    return pd.DataFrame(rows, columns=DIFFERENCE_COLUMNS)


def _fragile(r) -> bool:
    """A clear difference that stops being clear at some correlation between a council's services (0 to 1)."""
    return clear(r) and np.isfinite(r.break_even_correlation) and r.break_even_correlation <= 1


def clear(r) -> bool:
    return bool(r.ci_high < 0 or r.ci_low > 0)


def _difference_text(r, lvl: str) -> str:
    """'community services, third sector 4.6 pp lower than council-run (95% interval 1.6 to 7.3 pp lower), a gap
    that stops being clear if ...' (the clause only when the council clustering check was run)."""
    places = decimals(r.diff, r.ci_low, r.ci_high)
    if clear(r):
        word = "lower" if r.diff < 0 else "higher"
        near, far = sorted((abs(r.ci_low), abs(r.ci_high)))
        text = (f"{r.setting}, third sector {fmt(abs(r.diff), places=places)} pp {word} than council-run ({lvl} "
                f"interval {fmt(near, places=places)} to {fmt(far, places=places)} pp {word})")
        if _fragile(r):
            text += (", a gap that stops being clear if the services one council runs are rated alike (a "
                     f"correlation between them above {r.break_even_correlation:.2f}), which the data cannot rule "
                     "out")
        elif getattr(r, "break_even_correlation", np.nan) == np.inf:
            text += ", clear even if each council's services counted as one"
        return text
    side = "lower" if r.diff < 0 else "higher"
    return (f"{r.setting}, no clear difference between third sector and council-run (third sector "
            f"{fmt(abs(r.diff), places=places)} pp {side}; {lvl} interval {fmt(abs(r.ci_low), places=places)} pp "
            f"{'lower' if r.ci_low < 0 else 'higher'} to {fmt(abs(r.ci_high), places=places)} pp "
            f"{'higher' if r.ci_high > 0 else 'lower'})")


def _care_home_model_text(model: dict | None, lvl: str) -> str:
    """The adjusted care-home model beside the snapshot: its gap, third sector minus council-run, said in the
    same direction as its interval, and the correlation between a council's homes above which it stops being
    clear ('' without the model)."""
    if model is None:
        return ""
    d, low, high = model["difference_pp"], model["ci_low"], model["ci_high"]
    places = decimals(d, low, high)
    is_clear = low > 0 or high < 0
    head = ("The mutuals report's adjusted care-home model (the one rating recorded for each home registered "
            "2010-2023, comparing homes of the same size and type of care) finds third-sector homes ")
    if not is_clear:
        return (head + f"not clearly different from council-run ones ({lvl} interval {fmt(abs(low), places=places)} "
                f"pp {'less' if low < 0 else 'more'} to {fmt(abs(high), places=places)} pp "
                f"{'more' if high > 0 else 'less'} likely to be rated Good or Outstanding).")
    word = "less" if d < 0 else "more"
    near, far = sorted((abs(low), abs(high)))
    text = (head + f"{fmt(abs(d), places=places)} pp {word} likely to be rated Good or Outstanding ({lvl} interval "
            f"{fmt(near, places=places)} to {fmt(far, places=places)} pp {word})")
    rho = model.get("break_even_correlation", np.nan)
    if np.isfinite(rho) and rho <= 1:
        text += (f", but that gap stops being clear above a correlation of {rho:.2f} between a council's "
                 "homes")
    return text + "."


def _value(rows: pd.DataFrame, fid: str) -> float:
    return float(rows.set_index("id").loc[fid, "value"])


def _ratio_text(pooled: pd.DataFrame, series: str) -> str:
    row = pooled.set_index("series").loc[series]
    return (f"{row['label'].lower()} {fmt_interval(row['ratio'], row['ci_low'], row['ci_high'])} times "
            f"({int(row['n_councils'])} councils)")


def quality_verdict(part: pd.DataFrame, external_cheaper: bool) -> str:
    """The CL-MUT-09 rule on one CQC year's differences: mixed evidence when the third sector is rated clearly lower
    in any setting or external providers are not cheaper per unit, else partly supported."""
    lower = any(r.ci_high < 0 for r in part.itertuples())
    return "mixed evidence" if lower or not external_cheaper else "partly supported"


def claim_year(date: object) -> int | None:
    """The year of a claim's date as the register gives it ('c.2011', '2013-02-08', 'c.2014-15' -> first year)."""
    found = re.search(r"(19|20)\d{2}", str(date))
    return int(found.group(0)) if found else None


def nearest_snapshot(diffs: pd.DataFrame, year: int | None) -> int | None:
    """The CQC year in ``diffs`` nearest ``year`` (the earlier on a tie); None without either."""
    if year is None or diffs is None or diffs.empty:
        return None
    years = sorted(int(y) for y in diffs["year"].unique())
    return min(years, key=lambda y: (abs(y - year), y))


def _lower_text(part: pd.DataFrame) -> str:
    """What one CQC year shows against the claim: 'no setting was clearly lower', or where the third sector was
    lower, with the caveat when the gap holds only if a council's services are rated independently."""
    lower = [r for r in part.itertuples() if r.ci_high < 0]
    if not lower:
        return "no setting was clearly lower"
    better = not any(r.ci_low > 0 for r in part.itertuples())
    robust = [r.setting for r in lower if not _fragile(r)]
    fragile = [r.setting for r in lower if _fragile(r)]
    head = "the third sector was " + ("no better than council-run services, and " if better else "")
    parts = []
    if robust:
        parts.append(f"clearly lower in {' and '.join(robust)}")
    if fragile:
        parts.append(f"lower in {' and '.join(fragile)}, a gap that holds only if the services one council runs are "
                     "rated independently of one another")
    return head + ", and ".join(parts)


def _for_profit_text(quality: pd.DataFrame, year: int | None) -> str:
    """'for-profit firms ran 87% of the third-sector and for-profit care homes rated by the CQC at the end of 2015
    and 85% of such community services': how far 'external' means for-profit, from the CQC ownership counts."""
    if year is None or quality.empty:
        return ""
    q = quality[quality["year"] == year]
    shares = []
    for setting in SETTINGS:
        s = q[q["setting"] == setting].set_index("ownership")["total"]
        if {"for-profit", "third sector"} <= set(s.index) and s["for-profit"] + s["third sector"] > 0:
            shares.append((setting, 100 * s["for-profit"] / (s["for-profit"] + s["third sector"])))
    if not shares:
        return ""
    first, *rest = shares
    return (f"for-profit firms ran {fmt(first[1], '%', places=0)} of the third-sector and for-profit {first[0]} rated "
            f"by the CQC at the end of {year}"
            + "".join(f" and {fmt(v, '%', places=0)} of such {setting}" for setting, v in rest))


def _shares_text(quality: pd.DataFrame, year: int | None) -> str:
    """'Most services of every ownership were rated Good or Outstanding in 2024 (care homes: third sector 87%,
    for-profit 80%, council-run 88%; ...), so a high share alone says little about 'quality services'.'"""
    if year is None or quality.empty:
        return ""
    q = quality[quality["year"] == year]
    names = {"third sector": "third sector", "for-profit": "for-profit", "local authority": "council-run"}
    parts = []
    for setting in SETTINGS:
        s = q[q["setting"] == setting].set_index("ownership")
        shown = [f"{word} {fmt(s.loc[own, 'share'], '%', places=0)}" for own, word in names.items() if own in s.index]
        if shown:
            parts.append(f"{setting}: " + ", ".join(shown))
    if not parts:
        return ""
    return (f"Most services of every ownership were rated Good or Outstanding in {year} ({'; '.join(parts)}), so a "
            "high share alone says little about 'quality services'.")


def assess_claims(claims: pd.DataFrame, figures: pd.DataFrame, *, within: pd.DataFrame, cic, quality: pd.DataFrame,
                  level: float, councils: dict[tuple[str, int], tuple[int, int]] | None = None,
                  care_home_model: dict | None = None) -> list[Verdict]:
    """Verdicts on CL-MUT-01, 03, 08, 09 and 10.

    ``within``: pooled within-council ratios (``comparisons.within_council(...).pooled``); ``cic``:
    a :class:`analysis.costs.cic.CicSector`; ``quality``: CQC share rated Good/Outstanding by setting
    and ownership (``ratings.good_share_by_year``), for the latest CQC year and optionally earlier ones:
    CL-MUT-09 is judged on the latest year, earlier years are shown as context; ``councils`` (see
    :func:`rating_differences`) adds the council clustering check to it. ``care_home_model``
    (``ratings.model_gap`` of the care-home model, as the mutuals report fits it) is set beside the care-home
    snapshot, so the verdict does not read 'no clear difference' where the adjusted model finds one.
    """
    out = []
    ratios = within.set_index("series")
    low, high = ratios["ratio"].min(), ratios["ratio"].max()
    lvl = f"{level:.0%}"

    c = claim_row(claims, "CL-MUT-01")
    rows = evidence_rows(figures, c["evidence_ids"])
    csh = rows.set_index("id").loc["MUT-063"]
    out.append(Verdict.for_claim(
        c, "unsourced",
        "Unsourced: the minister cited no study, and the only published figure of that size is one mutual's own "
        "report of its gains, not an independent measurement of mutuals. Public council unit costs cannot stand in "
        "for it: they compare in-house provision with all external providers (for-profit, charities, social "
        "enterprises and mutuals together), and a unit cost is not productivity (no adjustment for quality or case "
        "mix).",
        f"Claimed: up to {_value(rows, 'MUT-027'):.0f}%, no study cited. Nearest figure located: Central Surrey "
        "Health's "
        f"own '{csh['lower']:.0f}-{csh['upper']:.0f}% gains in productivity' ({csh['year']}, {csh['verification']}), "
        "one community-health mutual reporting on itself. "
        f"Council data 2008-09 to 2013-14 ({lvl} intervals, clustered by council): councils' own provision cost "
        f"{low:.1f} to {high:.1f} times what they paid other providers for the same service in the same year, e.g. "
        + "; ".join(_ratio_text(within, s) for s in ("residential_older", "home_care") if s in ratios.index)
        + ". These ratios measure cost per week or hour, not output per input, and say nothing about mutuals.",
        rows, datasets=COST_DATASETS,
        summary=("The minister cited no study; the only figure of that size found is one mutual's own report of "
                 f"{csh['lower']:.0f}-{csh['upper']:.0f}% gains. Public cost data cannot isolate mutuals: councils' "
                 "own "
                 f"services cost {low:.1f}-{high:.1f} times what they paid all external providers per unit, a cost "
                 "gap, not a productivity measure.")))

    c = claim_row(claims, "CL-MUT-03")
    rows = evidence_rows(figures, c["evidence_ids"])
    lo_y, hi_y = cic.per_year_gbp[1], cic.per_year_gbp[2]
    out.append(Verdict.for_claim(
        c, "not testable with public data",
        "No public register of mutuals exists, so the count and value can only be checked against other government "
        "counts and against public spending data that cannot tell a mutual from other companies.",
        f"65 live (Feb 2013) against 9 in 2010 = x{_value(rows, 'MUT-074') / _value(rows, 'MUT-038'):.1f}; BCG "
        "counted "
        f"{_value(rows, 'MUT-040'):.0f} mutuals delivering £{_value(rows, 'MUT-041'):.1f}bn in 2013. NHS bodies' "
        "spend "
        f"files record {cic.n_with_payments} community interest companies paid {fmt(cic.total_gbp / 1e9, '£bn')} in "
        f"payments over £25,000 over about {cic.window_years[0]}-{cic.window_years[1]} years, "
        f"at least {fmt(lo_y / 1e6, '£m', places=0)} to {fmt(hi_y / 1e6, '£m', places=0)} a year on average; partial "
        "coverage, CICs are "
        "not all mutuals, and mutuals also sell to councils, so this neither confirms nor refutes '£1bn'.",
        rows, datasets=CIC_DATASET,
        summary=("No public register of mutuals exists, so the count can only be set against other government counts "
                 f"(BCG counted {_value(rows, 'MUT-040'):.0f} in 2013). NHS payments to all CICs in public spend "
                 "files come "
                 f"to at least {fmt(lo_y / 1e6, '£m', places=0)} to {fmt(hi_y / 1e6, '£m', places=0)} a year (if "
                 f"the files span {cic.window_years[0]} to {cic.window_years[1]} years), a partial figure for a "
                 "different set of organisations.")))

    c = claim_row(claims, "CL-MUT-08")
    rows = evidence_rows(figures, c["evidence_ids"])
    out.append(Verdict.for_claim(
        c, "not testable with public data",
        "No public register of NHS mutuals; the count comes from Cabinet Office figures reported by others. Public "
        "spending data identify CICs, a legal form that includes many organisations that are not staff mutuals.",
        f"Cabinet Office figure {_value(rows, 'MUT-059'):.0f}; {_value(rows, 'MUT-060'):.0f} new mutuals formed from "
        "the "
        f"NHS 2009-2014 (MUT-060). NHS bodies paid {cic.n_with_payments} CICs (payments over £25,000, c. 2010-2020): "
        f"{cic.n_over_10m} received more than £10m in total and {cic.n_over_1m} more than £1m"
        + (f"; by their names ({PRIMARY_CARE_RULE}), {cic.n_primary_care_over_1m} of the {cic.n_over_1m} and "
           f"{cic.n_primary_care_over_10m} of the {cic.n_over_10m} do primary care, GP federation, urgent-care or "
           "out-of-hours work, a floor because names miss some" if getattr(cic, "n_primary_care_over_1m", 0) else "")
        + ".",
        rows, datasets=CIC_DATASET,
        summary=(f"Untestable: no public register of NHS mutuals. NHS spend files show {cic.n_with_payments} CICs "
                 "paid over the decade, "
                 f"{cic.n_over_10m} of them more than £10m, but a CIC is a legal form, not a mutual.")))

    c = claim_row(claims, "CL-MUT-09")
    rows = evidence_rows(figures, c["evidence_ids"])
    diffs = rating_differences(quality, level, councils)
    latest_year = int(diffs["year"].max()) if len(diffs) else None
    # A claim is judged against the evidence of its time: the CQC year nearest the claim; later years are context.
    judged_year = nearest_snapshot(diffs, claim_year(c["date"])) or latest_year
    judged = diffs[diffs["year"] == judged_year] if len(diffs) else diffs
    latest = diffs[diffs["year"] == latest_year] if len(diffs) else diffs
    other = diffs[~diffs["year"].isin([judged_year, latest_year])] if len(diffs) else diffs
    external_cheaper = low > 1  # own provision dearer per unit in every service compared
    cost_basis = ("external providers as a whole cost councils less per unit" if external_cheaper else
                  "external provision was not cheaper per unit in every service")
    if judged.empty:
        verdict = "not testable with public data"
        quality_text = "no CQC ratings by ownership were available"
        lead = "Not testable with public data: no CQC ratings by ownership were available."
    else:
        # A lower rating counts against the claim even when it holds only if a council's services are rated
        # independently: that it might not survive is a caveat, said first, not evidence for the claim.
        verdict = quality_verdict(judged, external_cheaper)
        first = judged_year == int(diffs["year"].min()) and judged_year != latest_year
        basis = (f"the {judged_year} CQC ratings, " + ("the first year in the ratings data and " if first else "")
                 + "the nearest to the claim")
        lead = (f"{verdict[0].upper()}{verdict[1:]} on {basis}, with the third sector as a stand-in for social "
                f"enterprises: {_lower_text(judged)}, and {cost_basis}.")
        quality_text = f"in the {judged_year} CQC ratings: " + "; ".join(_difference_text(r, lvl)
                                                                         for r in judged.itertuples())
    later_text, later_lead = "", ""
    if latest_year is not None and latest_year != judged_year:
        later_verdict = quality_verdict(latest, external_cheaper)
        later_text = f"in the {latest_year} CQC ratings: " + "; ".join(_difference_text(r, lvl)
                                                                        for r in latest.itertuples())
        later_lead = (f"The {latest_year} ratings, later context, would give {later_verdict}"
                      + (" too" if later_verdict == verdict else "") + f": {_lower_text(latest)}.")
    context = "; ".join(f"{int(year)}: " + "; ".join(_difference_text(r, lvl) for r in part.itertuples())
                        for year, part in other.groupby("year"))
    cost_text = (f"councils' own services cost {low:.1f}-{high:.1f} times as much per unit as external providers as "
                 "a whole" if external_cheaper else
                 f"councils' own services cost {low:.1f}-{high:.1f} times as much per unit as external providers, so "
                 "external provision was not cheaper in every service")
    clustering = ""
    checked = latest.dropna(subset=["councils"]) if len(latest) else latest
    if len(checked):
        clustering = (f" Council clustering in {latest_year} (the Moulton design effect on the council-run side, as "
                      "in the mutuals report; the CQC files do not say which council runs a service): "
                      + "; ".join(f"{r.setting}, {r.n_council:,} council-run services among about {int(r.councils)} "
                                  f"councils running them in-house ({int(r.councils_year)} activity returns), about "
                                  f"{fmt(r.per_council, places=1)} each" for r in checked.itertuples()) + ".")
    model_text = _care_home_model_text(care_home_model, lvl)
    shares_text = _shares_text(quality, latest_year)
    for_profit = _for_profit_text(quality, judged_year)
    out.append(Verdict.for_claim(
        c, verdict,
        "Judged on the CQC ratings nearest the claim: a claim is judged against the evidence of its time, so later "
        "ratings are context, and the verdict the same rule gives on the latest year is stated beside it. The "
        "test is the difference in the share rated Good or Outstanding, third sector minus council-run, with its "
        "Newcombe interval (not whether two separate intervals overlap), and whether that difference survives "
        "the correlation between services run by the same council, which the CQC files cannot measure. Mixed "
        "evidence when the third sector is rated clearly lower in either setting (with how strong a correlation "
        "between one council's services would erase the gap said first), or external providers do not cost "
        "councils less per unit; partly supported when external providers as a whole cost less per unit and no "
        "setting is rated clearly lower. The third sector (charities, social enterprises and mutuals together) "
        "stands in for social enterprises. Either way a weaker claim than the one made: public data cannot "
        "separate social enterprises from other third-sector providers, the cost comparison is of all external "
        "providers, mostly for-profit, unit cost is not value for money, and 'more responsive' is untested.",
        f"Cost: within-council ratios of own to external unit cost {low:.1f} to {high:.1f} across services "
        "(2008-09 to 2013-14); 'external' is every other provider"
        + (f" ({for_profit})" if for_profit else "") + ". Quality, CQC share "
        f"rated Good or Outstanding at the year end, third sector minus council-run, unadjusted ({lvl} Newcombe "
        f"intervals): {quality_text}"
        + (f". Later context, {later_text}" if later_text else "")
        + (f". Other years: {context}" if context else "") + "."
        + (f" {shares_text}" if shares_text else "") + clustering
        + (f" {model_text}" if model_text else "")
        + " The cost gap may reflect pay and conditions, case mix and overhead allocation rather than efficiency, "
        "the cost and rating years differ, and ownership was not assigned at random.",
        rows, datasets=COST_DATASETS + ("cqc_care_home_ratings_by_year", "cqc_community_ratings_by_year")
        + (("asc_activity",) if len(checked) else ()) + (("cqc_care_home_closures",) if model_text else ()),
        summary=(f"{lead} {quality_text[0].upper()}{quality_text[1:]}."
                 + (f" {later_lead} {later_text[0].upper()}{later_text[1:]}." if later_text else "")
                 + (f" {model_text}" if model_text else "")
                 + " On cost, "
                 f"{cost_text}; but that compares all external providers"
                 + (f" ({for_profit})" if for_profit else " (mostly for-profit)")
                 + ", not social enterprises, and unit cost is not value for money. 'More responsive' is untested, "
                 "and no public data separate social enterprises from other third-sector providers.")))

    c = claim_row(claims, "CL-MUT-10")
    rows = evidence_rows(figures, c["evidence_ids"])
    nao_count = evidence_rows(figures, [NAO_EXPECTED_COUNT]) if NAO_EXPECTED_COUNT in set(figures["id"]) else None
    independent = independent_rows(rows, c["claimant_orgs"])
    value_bn = [_value(rows, "MUT-081"), _value(rows, "NAO-001")]
    value_confirmed = ("NAO-001" in set(independent["id"])
                       and abs(value_bn[0] - value_bn[1]) <= 0.1 * max(value_bn) + 1e-9)
    count_confirmed = any(i in set(independent["id"]) for i in COUNT_ROWS if i in set(rows["id"]))
    confirmed = [value_confirmed, count_confirmed]
    verdict = "supported" if all(confirmed) else "partly supported" if any(confirmed) else "unsourced"
    nao_text = (f"; the NAO's own figure was {_value(nao_count, NAO_EXPECTED_COUNT):.0f} enterprises expected to be "
                f"operating by September 2011 ({NAO_EXPECTED_COUNT})" if nao_count is not None else "")
    out.append(Verdict.for_claim(
        c, verdict,
        "A programme fact with two figures: each is confirmed when an outlet independent of the claimant agrees "
        "within 10%. Supported when both are confirmed, partly supported when one is, unsourced when neither is.",
        f"Contracts 'almost £1bn' against the National Audit Office's £{value_bn[1]:.1f}bn a year (NAO-001): "
        f"{'confirmed' if value_confirmed else 'not confirmed'}. '40 services': "
        f"{'confirmed' if count_confirmed else 'not independently confirmed'}; it matches 'more than 40' (NAO-028), "
        "but that is a copy on a news feed of a text whose originator is the government itself" + nao_text
        + ". Partial check from NHS "
        f"spend files: the {len(cic.largest)} largest CICs received "
        f"{fmt(cic.largest['total_paid_gbp'].sum() / 1e9, '£bn')} over c. 2010-2020, all CICs at least "
        f"{fmt(cic.per_year_gbp[1] / 1e6, '£m', places=0)} to {fmt(cic.per_year_gbp[2] / 1e6, '£m', places=0)} a year "
        "on average (payments over £25,000 from the bodies that published, so a floor, not a total).",
        rows, datasets=CIC_DATASET,
        summary=(f"Only the value is independently confirmed: the National Audit Office put the Right to Request "
                 f"services at £{value_bn[1]:.1f}bn a year, within 10% of 'almost £1 billion'. '40 services' rests "
                 "on a copy of a government text" + (f" (the NAO expected {_value(nao_count, NAO_EXPECTED_COUNT):.0f} "
                                                     "enterprises by September 2011)" if nao_count is not None else "")
                 + "; recorded NHS payments to CICs are lower but cover only part of the spending.")
        if verdict == "partly supported" else
        (f"The National Audit Office put the Right to Request services at £{value_bn[1]:.1f}bn a year; '40 "
         "services' is " + ("confirmed by an independent source." if count_confirmed else "not confirmed."))))
    return out
