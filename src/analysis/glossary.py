"""Plain-English meanings of the technical terms the reports use.

A reader who is not a statistician meets terms such as "clustered standard errors",
"false-discovery rate" or "design effect" in the body of a report. Every rendered report
carries a collapsed "Terms used in this report" box, just after its key findings, with the
meaning of each term below that its text actually uses (:func:`terms_used`; the export adds it,
so no report can forget a term). The reviewer's ``glossary`` check confirms it.

Each :class:`Term` has the words that find it in a report's text (a regular expression, matched
as whole words and case-sensitively where an abbreviation could be an ordinary word) and one or
two sentences a minister's adviser can follow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Term:
    name: str
    pattern: str  # a regular expression; whole words
    meaning: str
    ignore_case: bool = True
    extras: tuple[tuple[str, str], ...] = ()  # (pattern, sentence): sentences added only when the text uses them

    def for_text(self, text: str) -> Term:
        """The term with only the extra sentences whose words ``text`` uses (so a report's glossary never
        mentions, say, adjusted p-values or TWFE when the report does not)."""
        added = [sentence for pattern, sentence in self.extras
                 if re.search(rf"(?<![\w-])(?:{pattern})(?![\w-])", text)]
        return replace(self, meaning=" ".join([self.meaning, *added]), extras=())

    @property
    def regex(self) -> re.Pattern:
        return re.compile(rf"(?<![\w-])(?:{self.pattern})(?![\w-])", re.I if self.ignore_case else 0)


TERMS: tuple[Term, ...] = (
    Term("pp (percentage points)", r"pp|[Pp]ercentage points?", "The difference between two percentages: from 30% to "
         "33% is 3 percentage points (not 3%).", ignore_case=False),
    Term("95% (or 90%) interval", r"(?:9[05]|99)% (?:confidence )?(?:interval|range)s?",
         "The range of values the data are consistent with. A difference whose interval includes no difference "
         "(zero, or 1 for a ratio) is reported as 'no clear difference'. For a simulation, the range holds the "
         "central 90% or 95% of the "
         "simulated outcomes."),
    Term("Value at risk (in the NAO report)", r"value at risk",
         "The expected extra cost to the commissioner of the contracts against in-house provision, in present value "
         "over the contracts: the mean of the simulations, with the range of their central 90%. Not the loss "
         "threshold that 'value at risk' means in finance."),
    Term("p-value (p < 0.05)", r"p-values?|p (?:<|=) ?0\.\d+|p adjusted",
         "How surprising the data would be if there were no real difference; below 0.05 is conventionally called "
         "significant.",
         extras=((r"[Aa]djusted|p adjusted|false[- ]discovery[- ]rate|Benjamini-Hochberg|FDR|Bonferroni",
                  "With many comparisons some fall below 0.05 by chance, hence the adjusted p-values."),)),
    Term("False-discovery-rate adjustment (Benjamini-Hochberg)", r"false[- ]discovery[- ]rate|Benjamini-Hochberg|FDR",
         "A correction for making many comparisons at once: it raises each p-value so that, of the differences "
         "called significant, few are expected to be flukes."),
    Term("Bonferroni adjustment", r"Bonferroni",
         "A stricter correction for many comparisons: each interval is widened as if the comparisons were made one "
         "at a time at a proportionally stricter level."),
    Term("Clustered standard errors", r"clustered(?: standard errors)?|clustered by \w+",
         "Uncertainty measured allowing for results from the same organisation or council being alike, so that "
         "many rows from one place do not count as independent evidence."),
    Term("Randomisation inference", r"randomisation (?:inference|test|p)",
         "A test that relabels which organisations are social enterprises at random many times and asks how often "
         "a gap as large as the real one appears; it stays valid with very few organisations."),
    Term("Wild bootstrap", r"wild bootstrap",
         "A resampling check on clustered standard errors that works better when there are few clusters."),
    Term("Council bootstrap", r"council bootstrap",
         "Recomputing a figure many times on councils drawn at random (with replacement) to see how much it "
         "depends on which councils are in the data."),
    Term("Odds ratio", r"odds ratios?",
         "How the odds of an outcome compare between two groups: 1 means the same, below 1 lower odds."),
    Term("Logit and ordinal logit", r"(?:ordinal )?logit",
         "Regression models for a yes/no outcome (rated Good or Outstanding or not) and for an ordered one (the "
         "four CQC ratings)."),
    Term("Design effect (Moulton)", r"design effect|Moulton",
         "How much wider an interval becomes when observations that share a council are alike: a design effect of "
         "2 means the data hold half as much independent information as their count suggests."),
    Term("Interquartile range (IQR)", r"interquartile range|IQR|middle half|quartiles?",
         "The middle half of a group: a quarter of the values lie below the lower quartile and a quarter above "
         "the upper one."),
    Term("Wilson interval", r"Wilson",
         "A standard way of computing the interval for a percentage that behaves well with small numbers."),
    Term("Newcombe interval", r"Newcombe",
         "A standard way of computing the interval for the difference between two percentages that behaves well "
         "with small numbers."),
    Term("Exact Poisson and score intervals", r"(?:exact )?Poisson|score method",
         "Intervals for rates of rare events (closures per 100 homes a year) that stay valid when there are "
         "few events."),
    Term("Monte Carlo simulation", r"Monte Carlo|simulations?",
         "Running the model many times with each uncertain input drawn from its plausible range, to see the "
         "spread of outcomes."),
    Term("Deterministic case", r"deterministic case",
         "The model run once with every input at its most likely value."),
    Term("Present value", r"present value",
         "Costs and savings in later years converted to their worth at the start (here, when the contracts began, "
         "in the money of the contract value) by discounting at the Treasury's rate (the report gives it), so "
         "amounts in different years can be added."),
    Term("Failure hazard", r"(?:failure |closure )?hazards?",
         "The chance, each year, that a provider fails (here measured by care-home closures)."),
    Term("Switching value", r"switching values?|break[- ]even",
         "The value an input would need for the contracts to cost the same as in-house provision."),
    Term("Fixed effects", r"(?:council and year |year |two-way )?fixed[- ]effects|TWFE",
         "Comparing each council with itself over time (and each year with itself), so fixed differences between "
         "councils do not drive the result.", extras=((r"TWFE", "TWFE is two-way fixed effects."),)),
    Term("Callaway-Sant'Anna and event study", r"Callaway(?:-| and )Sant'Anna|event stud(?:y|ies)",
         "Methods that compare councils that changed (closed their homes) with councils that did not, year by "
         "year before and after the change, without the biases of simple before-and-after regressions when "
         "councils change at different times."),
    Term("Pre-trend test", r"pre-trend|parallel (?:paths|trends)|Wald",
         "A check that the two groups were moving in parallel before the change; if they were not, the "
         "difference afterwards cannot be read as the effect of the change."),
    Term("Ecological association", r"ecological",
         "A pattern across councils, which need not hold for the people in them: councils with more direct "
         "payments having more satisfied users does not show that budget holders are more satisfied."),
    Term("Geometric mean", r"geometric mean",
         "An average of ratios taken on a multiplicative scale, so that twice as dear and half as dear balance."),
    Term("ASCOF", r"ASCOF", "The Adult Social Care Outcomes Framework: NHS England's yearly measures of adult "
         "social care for every council, partly from a survey of service users.", ignore_case=False),
    Term("ASCOT", r"ASCOT", "The Adult Social Care Outcomes Toolkit: a score of care-related quality of life, "
         "up to 1 (the best).", ignore_case=False),
    Term("PSS-EX1 and ASC-FR", r"PSS-EX1|ASC-FR", "The councils' official annual returns of social care spending "
         "and activity (PSS-EX1 to 2013-14, ASC-FR from 2014-15), from which unit costs are computed.",
         ignore_case=False),
    Term("Third sector", r"third[- ]sector", "The CQC's ownership category for charities, social enterprises and "
         "mutuals together; it cannot pick out mutuals."),
    Term("CIC (community interest company)", r"CICs?|community interest compan(?:y|ies)",
         "A company legally bound to serve a community purpose; many NHS spin-outs chose it, but so did GP "
         "federations and others.", ignore_case=False),
    Term("ICER and cost-effectiveness acceptability", r"ICER|acceptability curve|CEAC|net (?:monetary )?benefit",
         "The extra cost of a budget per unit of extra benefit (ICER), and the chance it is worth its cost at each "
         "amount society is willing to pay (CEAC).", ignore_case=False),
    Term("Meta-analysis terms (I-squared, tau-squared, prediction interval)",
         r"I-squared|tau-squared|prediction interval|REML|DerSimonian-Laird|Hartung-Knapp",
         "Pooling several studies: tau-squared and I-squared measure how much the studies disagree beyond chance; "
         "the prediction interval is where a new study's result would likely fall; REML, DerSimonian-Laird and "
         "Hartung-Knapp are standard pooling methods.", ignore_case=False),
    Term("Synthetic control", r"synthetic control",
         "A weighted mix of untreated organisations built to track a treated one before its change, used as its "
         "comparison afterwards."),
)


def terms_used(text: str) -> list[Term]:
    """The terms whose words appear in ``text``, in the glossary's order, each with only the extra sentences of
    its meaning that ``text`` uses (:meth:`Term.for_text`)."""
    return [term.for_text(text) for term in TERMS if term.regex.search(text)]


def glossary_html(terms: list[Term]) -> str:
    """The collapsed "Terms used in this report" box (escaped), or "" when no term is used."""
    import html

    if not terms:
        return ""
    items = "".join(f"<dt>{html.escape(t.name)}</dt><dd>{html.escape(t.meaning)}</dd>" for t in terms)
    return (f'<details class="glossary" id="glossary"><summary>Terms used in this report ({len(terms)})</summary>'
            f"<dl>{items}</dl></details>")
