"""Declarative schema of the HCC-TACE-Seg clinical table (``HCC-TACE-Seg_clinical_data-V2.xlsx``).

One :class:`ColumnSpec` per column of the real table, in the file's column order. Names,
codes, vocabularies (exact spellings, including the source's typos such as ``T_involvment``,
``Evidence_of_cirh``, ``Cisplastin``), pandas dtypes and missing counts were taken from the real
file's "data table" sheet (105 patients); descriptions are the "glossary" sheet's text (trailing
spaces stripped). The schema is committed code: nothing reads the real file at run time.

Flags that matter for modelling TLVR from clinical data:

* ``post_treatment``: only known after TACE (follow-up imaging, response, survival). Using them
  to predict baseline tumor burden leaks the future.
* ``imaging_extent``: measures tumor extent on the baseline CT itself (size, nodularity,
  involvement, RECIST/mRECIST/EASL baseline readings). They correlate with TLVR by construction.
* ``derived_from``: columns computed from others (e.g. ``CLIP`` groups ``CLIP_Score``).

The column types are in :mod:`.column_spec`, the response-reading columns in :mod:`.readings`.
"""

from __future__ import annotations

from smoothseg.clinical.column_spec import (
    Code,
    ColumnSpec,
    stage_codes,
    yn_column,
)
from smoothseg.clinical.readings import READING_COLUMNS

_BASE: tuple[ColumnSpec, ...] = (
    ColumnSpec("TCIA_ID", "id", "Patient ID", "id", "str", note="HCC_001 ... HCC_105"),
    ColumnSpec(
        "Interval_BL",
        "numeric",
        "Days between diagnosis, and baseline CT imaging as (Date of diagnosis - Date of "
        "baseline CT)",
        "timing",
        "int64",
        unit="days",
        observed_range=(-303, 868),
        paper_feature=True,
        note="Integer days; negative values exist (sign convention of the source).",
    ),
    ColumnSpec(
        "Interval_FU",
        "numeric",
        "Weeks between follow-up (FU) after TACE (Transcatheter Arterial Chemoembolization) "
        "procedure and baseline before TACE procedure (BL) studies",
        "timing",
        "float64",
        unit="weeks",
        real_missing=8,
        observed_range=(-25.86, 30.29),
        post_treatment=True,
        note="Two decimals.",
    ),
    ColumnSpec(
        "TTP",
        "numeric",
        "Time to progression (Weeks)",
        "outcome",
        "float64",
        unit="weeks",
        observed_range=(4.0, 229.8571429),
        post_treatment=True,
        paper_feature=True,
        note="Days / 7, unrounded.",
    ),
    ColumnSpec(
        "Death_1_StillAliveorLostToFU_0",
        "binary",
        "Patient died at follow-up date = 1, patient still alive or lost to FU = 0",
        "outcome",
        "int64",
        (Code(0, "alive or lost to follow-up"), Code(1, "died")),
        post_treatment=True,
    ),
    ColumnSpec(
        "Censored_0_progressed_1",
        "binary",
        "Patient censored = 0, patient progressed = 1. Lesions were considered as censored if "
        "(a) no progression by the study date, (b) patient is lost to follow-up, (c) date of "
        "death is before tumor progression, or (d) switch of treatment to another form than "
        "TACE.",
        "outcome",
        "int64",
        (Code(0, "censored"), Code(1, "progressed")),
        post_treatment=True,
    ),
    ColumnSpec(
        "OS",
        "numeric",
        "overall survival (weeks)",
        "outcome",
        "float64",
        unit="weeks",
        observed_range=(6.857142857, 473.7142857),
        post_treatment=True,
        note="Days / 7, unrounded.",
    ),
    ColumnSpec(
        "hepatitis",
        "categorical",
        "patient hepatitis status either HCV, HBV, or both.",
        "risk_factor",
        "str",
        (
            Code("No virus", "no viral hepatitis"),
            Code("HBV only", "hepatitis B only"),
            Code("HCV only", "hepatitis C only"),
            Code("HCV and HBV", "hepatitis B and C"),
        ),
    ),
    ColumnSpec(
        "age",
        "numeric",
        "patient age in years during diagnosis",
        "demographic",
        "int64",
        unit="years",
        observed_range=(31, 93),
        paper_feature=True,
    ),
    ColumnSpec(
        "agegp",
        "ordinal",
        "patient age groups  <40, 41-50, 51-60, 61-70, >70",
        "demographic",
        "str",
        (
            Code("<=40", "40 years or younger"),
            Code("41-50", "41 to 50 years"),
            Code("51-60", "51 to 60 years"),
            Code("61-70", "61 to 70 years"),
            Code(">70", "older than 70 years"),
        ),
        derived_from=("age",),
        note="Stored as '<=40' although the glossary says '<40'.",
    ),
    ColumnSpec(
        "Sex",
        "binary",
        "1=Male, 2=Female",
        "demographic",
        "int64",
        (Code(1, "male"), Code(2, "female")),
    ),
    yn_column("Smoking", "risk_factor", paper_feature=True),
    yn_column("Alcohol", "risk_factor", paper_feature=True),
    yn_column("fhx_can", "risk_factor", "family history of cancer (Y=1, N=0 )", paper_feature=True),
    yn_column("fhx_livc", "risk_factor", "family history of liver cancer ( Y=1, N=0 )"),
    yn_column("Diabetes", "risk_factor", paper_feature=True),
    yn_column("Personal history of cancer", "risk_factor", paper_feature=True),
    yn_column(
        "Evidence_of_cirh",
        "liver_function",
        "evidence of cirrhosis, Y = 1 N = 0",
        paper_feature=True,
    ),
    ColumnSpec(
        "Pathology",
        "categorical",
        "pathological grading (differentiation) (Poorly differentiated, Moderately "
        "differentiated, Well differentiated, NOT STATED, No Biopsy )",
        "pathology",
        "str",
        (
            Code("Well differentiated", "grade 1"),
            Code("Well-moderately differentiated", "grade 1-2"),
            Code("Moderately differentiated", "grade 2"),
            Code("Moderately-poorly differentiated", "grade 2-3"),
            Code("Poorly differentiated", "grade 3"),
            Code("NOT STATED", "biopsy done, grade not reported"),
            Code("No biopsy", "no biopsy taken"),
        ),
        note="Grades are ordered but 'NOT STATED' and 'No biopsy' are not: treat as categorical.",
    ),
    ColumnSpec(
        "PS_bclc_0_0_1-2_1_3-4_3",
        "ordinal",
        "performance status for BCLC classification ( 0 = stage 0, 1 = stage 1 or 2 , 3 = stage "
        "3 or 4 )",
        "liver_function",
        "int64",
        (Code(0, "ECOG 0"), Code(1, "ECOG 1 or 2"), Code(3, "ECOG 3 or 4")),
        note="ECOG performance status; code 2 is not used.",
    ),
    ColumnSpec(
        "CPS",
        "ordinal",
        "Child Pugh classification Score for Cirrhosis Mortality, severity (A,B,C)",
        "liver_function",
        "str",
        (
            Code("A", "Child-Pugh A (5-6 points)"),
            Code("B", "Child-Pugh B (7-9)"),
            Code("C", "Child-Pugh C (10-15)"),
        ),
    ),
    ColumnSpec(
        "Tr_Size",
        "numeric",
        "tumor size (cm)",
        "tumor_imaging",
        "float64",
        unit="cm",
        real_missing=52,
        observed_range=(0.8, 20.0),
        imaging_extent=True,
        note="Largest tumor diameter; one decimal; missing for half the patients.",
    ),
    ColumnSpec(
        "tumor_nodul",
        "binary",
        "tumor nodularity (uninodular, multinodular)",
        "tumor_imaging",
        "str",
        (Code("uninodular", "single nodule"), Code("multinodular", "two or more nodules")),
        imaging_extent=True,
    ),
    yn_column("Vascular invasion", "tumor_imaging"),
    yn_column("Metastasis", "tumor_imaging", paper_feature=True, note="Distant metastasis (M1)."),
    yn_column("Lymphnodes", "tumor_imaging", paper_feature=True, note="Regional lymph nodes (N1)."),
    yn_column("Portal Vein Thrombosis", "tumor_imaging"),
    ColumnSpec(
        "T_involvment",
        "binary",
        "tumor involvement ( <= 50% , >50% )",
        "tumor_imaging",
        "str",
        (
            Code("< or = 50%", "tumor occupies at most half the liver"),
            Code(">50%", "more than half"),
        ),
        imaging_extent=True,
        paper_feature=True,
    ),
    ColumnSpec(
        "AFP",
        "numeric",
        "AFP ( Alpha-fetoprotein) level (ng/ml)",
        "lab",
        "float64",
        unit="ng/mL",
        observed_range=(1.4, 566530.0),
        paper_feature=True,
        note="Log-normal-like; log10 mean 1.88, sd 1.35.",
    ),
    ColumnSpec(
        "AFP_group",
        "binary",
        "AFP level group ( < 400 , >= 400ng/mL )",
        "lab",
        "str",
        (Code("<400", "AFP below 400 ng/mL"), Code(">=400", "AFP at least 400 ng/mL")),
        derived_from=("AFP",),
    ),
    ColumnSpec(
        "CLIP_Score",
        "ordinal",
        "CLIP (Cancer of the Liver Italian Program) score (0-6)",
        "staging",
        "str",
        stage_codes("Stage_", ("0", "1", "2", "3", "4", "5", "6"), unobserved=("6",)),
        derived_from=("CPS", "tumor_nodul", "T_involvment", "AFP_group", "Portal Vein Thrombosis"),
        paper_feature=True,
        note="Equals exactly, for all 105 patients: CPS (A=0, B=1, C=2) + morphology "
        "(uninodular and <=50% = 0, multinodular and <=50% = 1, >50% = 2) + (AFP >= 400) + "
        "portal vein thrombosis.",
    ),
    ColumnSpec(
        "CLIP",
        "ordinal",
        "CLIP score group (Stage_ 0-2, Stage_3, Stage_4-6)",
        "staging",
        "str",
        (Code("Stage_ 0-2", "CLIP 0-2"), Code("Stage_3", "CLIP 3"), Code("Stage_4-6", "CLIP 4-6")),
        derived_from=("CLIP_Score",),
    ),
    ColumnSpec(
        "Okuda",
        "ordinal",
        "Okuda score",
        "staging",
        "str",
        stage_codes("Stage ", ("I", "II", "III")),
        derived_from=("T_involvment",),
        note="Points: tumor >50% of liver, ascites, albumin < 3 g/dL, bilirubin > 3 mg/dL; "
        "I = 0, II = 1-2, III = 3-4. Every '>50%' patient is stage II or III.",
    ),
    ColumnSpec(
        "TNM",
        "ordinal",
        "TNM staging",
        "staging",
        "str",
        stage_codes("Stage-", ("I", "II", "IIIA", "IIIB", "IIIC", "IVA", "IVB")),
        derived_from=("tumor_nodul", "Tr_Size", "Vascular invasion", "Lymphnodes", "Metastasis"),
        paper_feature=True,
        note="AJCC: every stage I is uninodular, IIIB has vascular invasion, IVA lymph nodes, "
        "IVB metastasis.",
    ),
    ColumnSpec(
        "BCLC",
        "ordinal",
        "BCLC classification Barcelona Clinic Liver Cancer staging (1999) to sort into category "
        "(0,A,B,C,D) and guide treatment of Hepatocellular carcinoma.",
        "staging",
        "str",
        stage_codes("Stage-", ("0", "A", "B", "C", "D"), unobserved=("0",)),
        derived_from=("PS_bclc_0_0_1-2_1_3-4_3", "CPS", "tumor_nodul", "Vascular invasion"),
        note="Performance status 1-2 gives stage C (51 of 52 patients), 3-4 stage D.",
    ),
    ColumnSpec(
        "chemotherapy",
        "categorical",
        "chemotherapy used for TACE procedure",
        "treatment",
        "str",
        (
            Code("Cisplatin, doxorubicin, Mitomycin-C", "conventional TACE, three drugs"),
            Code("Cisplatin, Mitomycin-C", "conventional TACE, two drugs"),
            Code("Cisplastin", "cisplatin only (source spelling)"),
            Code("doxorubicin LC beads", "drug-eluting bead TACE"),
        ),
        real_missing=17,
        missing_marker="NA",
        note="Missing values are stored as the text 'NA' (pandas reads them as NaN).",
    ),
)

#: Every column of the real table, in the file's order.
COLUMNS: tuple[ColumnSpec, ...] = _BASE + READING_COLUMNS
COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
_BY_NAME = {c.name: c for c in COLUMNS}

#: Sheet names of the real workbook.
DATA_SHEET = "data table"
GLOSSARY_SHEET = "glossary"

#: The paper's Table A1 feature names mapped to the real column names (the paper spells two
#: of them differently: ``T_involvement`` and ``Evidence_of_cirrh``).
PAPER_TLVR_FEATURES: dict[str, str] = {
    "T_involvement": "T_involvment",
    "Personal history of cancer": "Personal history of cancer",
    "Lymphnodes": "Lymphnodes",
    "CLIP_Score": "CLIP_Score",
    "TNM": "TNM",
    "Metastasis": "Metastasis",
    "Evidence_of_cirrh": "Evidence_of_cirh",
    "Alcohol": "Alcohol",
    "AFP": "AFP",
    "Smoking": "Smoking",
    "Diabetes": "Diabetes",
    "fhx_can": "fhx_can",
    "age": "age",
    "TTP": "TTP",
    "Interval_BL": "Interval_BL",
}


def column(name: str) -> ColumnSpec:
    """The spec of column ``name``.

    Raises:
        KeyError: no such column (the message lists close names).

    """
    try:
        return _BY_NAME[name]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(name, COLUMN_NAMES, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise KeyError(f"no clinical column {name!r}{hint}") from None


def baseline_columns() -> tuple[ColumnSpec, ...]:
    """Columns known before treatment (excludes the ID and every post-treatment column)."""
    return tuple(c for c in COLUMNS if c.kind != "id" and not c.post_treatment)
