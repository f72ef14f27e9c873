"""The four-class emotion label set shared by every corpus and model."""

NEUTRAL = "neutral"
HAPPY = "happy"
SAD = "sad"
ANGRY = "angry"

#: The paper's four classes, in the order used for tables and reports.
EMOTIONS = (NEUTRAL, HAPPY, SAD, ANGRY)

#: Label used for the level-1 collapse of every non-neutral class.
EMOTIONAL = "emotional"

#: IEMOCAP categorical codes kept by the four-class task (``exc`` merged into
#: ``happy``).  Every other code (fru, sur, fea, dis, oth, xxx) is dropped.
IEMOCAP_CODE_TO_LABEL = {
    "neu": NEUTRAL,
    "hap": HAPPY,
    "exc": HAPPY,
    "sad": SAD,
    "ang": ANGRY,
}
