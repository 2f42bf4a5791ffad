"""Run names like MLflow's ("handsome-goose-822") and experiment ids like MLflow's.

The word lists below are copied verbatim from MLflow's ``mlflow/utils/name_utils.py``
(MLflow 3.17.2, Copyright Databricks, Inc., Apache License 2.0), so the name
space, including the duplicated predicate "resilient", matches MLflow exactly.
"""

from __future__ import annotations

import random
import uuid

_EXPERIMENT_ID_WIDTH = 18
MAX_NAME_LENGTH = 20
INTEGER_SCALE = 3  # numbers 0..10**3 inclusive, as MLflow draws them


def generate_run_name(rng: random.Random | None = None, sep: str = "-") -> str:
    """``predicate-noun-N``: drawn again (up to 10 times) when over 20 chars, then cut, as MLflow does."""
    choose = rng or random
    name = ""
    for _ in range(10):
        predicate = choose.choice(PREDICATES).lower()
        noun = choose.choice(NOUNS).lower()
        name = f"{predicate}{sep}{noun}{sep}{choose.randint(0, 10**INTEGER_SCALE)}"
        if len(name) <= MAX_NAME_LENGTH:
            return name
    return name[:MAX_NAME_LENGTH]


def generate_experiment_id() -> str:
    """The last 18 digits of a uuid4 integer, leading zeros replaced by random digits (MLflow's rule)."""
    digits = str(uuid.uuid4().int)[-_EXPERIMENT_ID_WIDTH:]
    for char in digits:
        if char != "0":
            break
        digits += str(random.randint(0, 9))
    return str(int(digits))


# ---- word lists from MLflow (Apache-2.0) ----
NOUNS: tuple[str, ...] = (
    "ant", "ape", "asp", "auk", "bass", "bat", "bear", "bee", "bird", "boar", "bug", "calf",
    "carp", "cat", "chimp", "cod", "colt", "conch", "cow", "crab", "crane", "croc", "crow",
    "cub", "deer", "doe", "dog", "dolphin", "donkey", "dove", "duck", "eel", "elk", "fawn",
    "finch", "fish", "flea", "fly", "foal", "fowl", "fox", "frog", "gnat", "gnu", "goat",
    "goose", "grouse", "grub", "gull", "hare", "hawk", "hen", "hog", "horse", "hound", "jay",
    "kit", "kite", "koi", "lamb", "lark", "loon", "lynx", "mare", "midge", "mink", "mole",
    "moose", "moth", "mouse", "mule", "newt", "owl", "ox", "panda", "penguin", "perch", "pig",
    "pug", "quail", "ram", "rat", "ray", "robin", "roo", "rook", "seal", "shad", "shark",
    "sheep", "shoat", "shrew", "shrike", "shrimp", "skink", "skunk", "sloth", "slug", "smelt",
    "snail", "snake", "snipe", "sow", "sponge", "squid", "squirrel", "stag", "steed", "stoat",
    "stork", "swan", "tern", "toad", "trout", "turtle", "vole", "wasp", "whale", "wolf", "worm",
    "wren", "yak", "zebra",
)

PREDICATES: tuple[str, ...] = (
    "abundant", "able", "abrasive", "adorable", "adaptable", "adventurous", "aged", "agreeable",
    "ambitious", "amazing", "amusing", "angry", "auspicious", "awesome", "bald", "beautiful",
    "bemused", "bedecked", "big", "bittersweet", "blushing", "bold", "bouncy", "brawny",
    "bright", "burly", "bustling", "calm", "capable", "carefree", "capricious", "caring",
    "casual", "charming", "chill", "classy", "clean", "clumsy", "colorful", "crawling",
    "dapper", "debonair", "dashing", "defiant", "delicate", "delightful", "dazzling",
    "efficient", "enchanting", "entertaining", "enthused", "exultant", "fearless", "flawless",
    "fortunate", "fun", "funny", "gaudy", "gentle", "gifted", "glamorous", "grandiose",
    "gregarious", "handsome", "hilarious", "honorable", "illustrious", "incongruous",
    "indecisive", "industrious", "intelligent", "inquisitive", "intrigued", "invincible",
    "judicious", "kindly", "languid", "learned", "legendary", "likeable", "loud", "luminous",
    "luxuriant", "lyrical", "magnificent", "marvelous", "masked", "melodic", "merciful",
    "mercurial", "monumental", "mysterious", "nebulous", "nervous", "nimble", "nosy",
    "omniscient", "orderly", "overjoyed", "peaceful", "painted", "persistent", "placid",
    "polite", "popular", "powerful", "puzzled", "rambunctious", "rare", "rebellious",
    "respected", "resilient", "righteous", "receptive", "redolent", "resilient", "rogue",
    "rumbling", "salty", "sassy", "secretive", "selective", "sedate", "serious", "shivering",
    "skillful", "sincere", "skittish", "silent", "smiling", "sneaky", "sophisticated", "spiffy",
    "stately", "suave", "stylish", "tasteful", "thoughtful", "thundering", "traveling",
    "treasured", "trusting", "unequaled", "upset", "unique", "unleashed", "useful", "upbeat",
    "unruly", "valuable", "vaunted", "victorious", "welcoming", "whimsical", "wistful", "wise",
    "worried", "youthful", "zealous",
)
