"""Does the staff-survey pattern depend on how organisations are weighted, or on any one organisation?

The main comparison weights each organisation-year by its number of responses, so a
large organisation counts for more (one community social enterprise, Sirona Care &
Health, gives about a third of the social-enterprise responses). Two checks:

* **Organisations weighted equally**: every organisation has the same total weight
  (each of its survey years an equal share), so the comparison is of organisations,
  not of staff.
* **Leave one out**: the comparison re-run without each organisation in turn
  (social enterprises and trusts), reporting the same pattern counts.

Each run reports the pattern of directions (:mod:`analysis.mutuals.multiplicity`):
items worse/better at p < alpha, raw and after the false-discovery-rate adjustment,
for clustered and randomisation inference. Re-running the comparison means the
estimator is exactly the one in :func:`analysis.mutuals.staff.compare_items`.
"""

from __future__ import annotations

from typing import Callable

import pandas as pd

from analysis.errors import InputError
from analysis.mutuals import multiplicity, staff

MAIN = "Main: organisation-years weighted by responses"
EQUAL = "Organisations weighted equally"


def equal_organisation_weights(survey: pd.DataFrame) -> pd.DataFrame:
    """A copy of the survey whose ``base`` gives every organisation the same total weight per item.

    Each organisation-year of an item gets 1 / (the organisation's number of years with that item),
    rescaled so the item's total weight is unchanged (the estimates and clustered standard errors do not
    depend on the scale of the weights; keeping it avoids tiny numbers).
    """
    if survey.empty:
        raise InputError("No staff-survey rows to reweight")
    out = survey.copy()
    years = out.groupby(["item", "ods_code"])["year"].transform("count")
    share = 1.0 / years
    total = out.groupby("item")["base"].transform("sum")
    organisations = out.groupby("item")["ods_code"].transform("nunique")
    out["base"] = share * total / organisations
    return out


def response_shares(survey: pd.DataFrame, service: str, years: tuple[int, int]) -> pd.DataFrame:
    """Each organisation's share of its group's responses (social enterprises or trusts) over ``years``.

    Responses are the survey's ``respondents`` per organisation-year (the same for every item).
    """
    sample = staff.comparison_sample(survey, service, years)
    per_year = sample.drop_duplicates(["ods_code", "year"])
    org = (per_year.groupby(["ods_code", "organisation_latest", "social_enterprise"])["respondents"].sum()
           .reset_index())
    org["group_share"] = org["respondents"] / org.groupby("social_enterprise")["respondents"].transform("sum")
    org["group"] = org["social_enterprise"].map({1: "social enterprise", 0: "NHS trust"})
    return org.sort_values(["social_enterprise", "group_share"], ascending=[False, False]).reset_index(drop=True)


def _pattern_row(label: str, left_out: str, group: str, share: float | None, table: pd.DataFrame,
                 alpha: float) -> dict:
    pattern = multiplicity.direction_pattern(multiplicity.add_adjusted_p_values(table, alpha), alpha)
    row = {"analysis": label, "left_out": left_out, "group": group, "share_of_group_responses": share,
           "items": pattern.items, "leaning_worse": pattern.leaning_worse}
    for column, name in (("p_value", "clustered"), ("p_randomisation", "randomisation")):
        p = pattern.by_inference.get(column)
        row.update({f"{name}_worse": p.worse if p else None, f"{name}_better": p.better if p else None,
                    f"{name}_worse_adjusted": p.worse_adjusted if p else None,
                    f"{name}_better_adjusted": p.better_adjusted if p else None})
    return row


Comparer = Callable[[pd.DataFrame], pd.DataFrame]


def weighting_and_leave_one_out(survey: pd.DataFrame, service: str, items: list[str], years: tuple[int, int],
                                level: float = 0.95, n_permutations: int = 1999, seed: int = 0, *,
                                main: pd.DataFrame | None = None, compare: Comparer | None = None) -> pd.DataFrame:
    """The pattern of directions under the main weighting, equal weighting, and leaving out each organisation.

    ``main`` is the already-computed main comparison (saves one run); ``compare`` maps a survey table to a
    comparison table (default: :func:`staff.compare_items` with the given settings; tests pass a stub).
    Leaving out a group's only organisation is skipped (nothing would be left to compare).
    """
    alpha = 1 - level
    if compare is None:
        def compare(table: pd.DataFrame) -> pd.DataFrame:
            return staff.compare_items(table, service, items, years, level, n_permutations, seed)
    sample = staff.comparison_sample(survey, service, years)
    shares = response_shares(survey, service, years)
    rows = [_pattern_row(MAIN, "", "", None, main if main is not None else compare(sample), alpha),
            _pattern_row(EQUAL, "", "", None, compare(equal_organisation_weights(sample)), alpha)]
    group_sizes = shares.groupby("social_enterprise")["ods_code"].nunique()
    for org in shares.itertuples():
        if group_sizes[org.social_enterprise] < 2:
            continue
        table = compare(sample[sample["ods_code"] != org.ods_code])
        if table.empty:
            continue
        rows.append(_pattern_row(f"Without {org.organisation_latest}", org.ods_code, org.group, org.group_share,
                                 table, alpha))
    out = pd.DataFrame(rows)
    out.attrs.update(service=service, alpha=alpha)
    return out


def most_adverse_leave_one_out(table: pd.DataFrame, group: str | None = "social enterprise") -> pd.Series | None:
    """The leave-one-out run (of an organisation in ``group``; ``None`` = any) that makes the social enterprises
    look worst, if it is worse than the main analysis.

    Ranked by items worse at p < alpha (clustered), then by items still worse after the false-discovery-rate
    adjustment. ``None`` when no single organisation's absence adds a worse item: the checks then all run in the
    favourable direction, and only then may a report call the result fragile one way.
    """
    main = table[table["analysis"] == MAIN].iloc[0]
    loo = table[table["left_out"] != ""]
    if group is not None:
        loo = loo[loo["group"] == group]
    if loo.empty:
        return None
    ranked = loo.sort_values(["clustered_worse", "clustered_worse_adjusted"], ascending=False, kind="stable")
    top = ranked.iloc[0]
    return top if int(top["clustered_worse"]) > int(main["clustered_worse"]) else None


def robustness_sentence(table: pd.DataFrame, shares: pd.DataFrame, *, subject: str) -> str:
    """Whether the clustered pattern survives equal weighting and leaving out each organisation, in two sentences.

    Names the largest social enterprise (its share of the group's responses) and what happens without it.
    """
    main = table[table["analysis"] == MAIN].iloc[0]
    equal = table[table["analysis"] == EQUAL].iloc[0]
    loo = table[table["left_out"] != ""]
    alpha = table.attrs.get("alpha", 0.05)

    def counts(row) -> str:
        worse, better = int(row["clustered_worse"]), int(row["clustered_better"])
        return f"worse on {worse} items and better on {better}" if worse or better else "worse or better on no item"

    def total(row) -> int:
        return int(row["clustered_worse"] + row["clustered_better"])

    main_n = total(main)
    largest = shares[shares["social_enterprise"] == 1].head(1)
    without = loo.iloc[:0]
    others = loo
    if not largest.empty:
        without = loo[loo["left_out"] == largest.iloc[0]["ods_code"]]
        others = loo[loo["left_out"] != largest.iloc[0]["ods_code"]]
    on = [what for what, row in (("how organisations are weighted", equal),
                                 ("one large organisation", without.iloc[0] if not without.empty else None))
          if row is not None and main_n > 0 and total(row) <= main_n / 2]
    opening = (f"The {main_n} item{'s' if main_n != 1 else ''} at p < {alpha:g} depend{'s' if main_n == 1 else ''} on "
               + " and on ".join(on) if on else "The pattern survives equal weighting and the largest organisation's "
               "absence")
    text = (f"{opening}: weighted by responses, as in the main analysis, {subject} are {counts(main)} at p < {alpha:g} "
            f"(clustered); weighted equally, they are {counts(equal)}")
    lean = [int(equal["leaning_worse"])]
    if not largest.empty:
        big = largest.iloc[0]
        if not without.empty:
            text += (f"; without {big['organisation_latest']}, which gives {big['group_share']:.0%} of the social-"
                     f"enterprise responses, they are {counts(without.iloc[0])}")
            lean.append(int(without.iloc[0]["leaning_worse"]))
    text += (f". The point estimates still lean worse on {' and '.join(str(n) for n in lean)} of {int(main['items'])} "
             f"items in these checks ({int(main['leaning_worse'])} in the main analysis).")
    if not others.empty:
        lo, hi = int(others["clustered_worse"].min()), int(others["clustered_worse"].max())
        better = int(others["clustered_better"].max())
        adjusted = int((others["clustered_worse_adjusted"] + others["clustered_better_adjusted"]).max())
        span = f"{lo}" if lo == hi else f"{lo} to {hi}"
        survived = loo["clustered_worse_adjusted"] + loo["clustered_better_adjusted"]
        kept, adjusted = int((survived == 0).sum()), int(survived.max())
        text += (f" Leaving out any other single organisation gives {span} worse items and "
                 + (f"at most {better} better" if better else "none better")
                 + f" at p < {alpha:g}; in {kept} of the {len(loo)} leave-one-out runs none survives the adjustment "
                 f"for multiple comparisons" + (f" (up to {adjusted} in the others)." if kept < len(loo) else "."))
    return text
