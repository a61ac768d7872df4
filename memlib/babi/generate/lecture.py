"""The lecture's tiny world of the Memory Networks slides: its running example and random stories like it.

Fred, Joe and Dan move between four rooms and take the milk or the ball, as on the slides
"I component" to "R component"; the two-hop question "Where is the milk now?" is the example of
Weston, Chopra & Bordes (2015, §3.1). Stories come in bAbI format (Weston et al. 2016) with their
supporting facts, so every model of the course reads them.
"""

from __future__ import annotations

import random

from memlib.babi.format import Story, parse

#: the lecture's running example (slides "I component" to "R component")
LECTURE_STORY = """1 Fred moved to the bedroom.
2 Joe went to the kitchen.
3 Joe took the milk.
4 Dan journeyed to the bedroom.
5 Where is Dan now?\tbedroom\t4
6 Where is the milk now?\tkitchen\t3 2
"""


def lecture_stories(n: int, seed: int = 0) -> list[Story]:
    """`n` random stories in the lecture's tiny world (Fred, Joe, Dan; milk, ball; four rooms), in bAbI format.

    Questions: "Where is <actor> now?" (support: the actor's last move) and "Where is the
    <object> now?" (support: the last time it was taken, then its holder's last move).
    """
    rng = random.Random(f"memnn-lecture/{seed}")
    actors, objects = ["Fred", "Joe", "Dan"], ["milk", "ball"]
    rooms, verbs = ["bedroom", "kitchen", "garden", "office"], ["moved", "went", "journeyed"]
    text = []
    for _ in range(n):
        lines, at, moved, holder, taken = [], {}, {}, {}, {}
        for _ in range(rng.randint(4, 8)):
            actor = rng.choice(actors)
            free = [o for o in objects if o not in holder]
            if actor in at and free and rng.random() < 0.3:
                obj = rng.choice(free)
                holder[obj] = actor
                lines.append(f"{actor} took the {obj}.")
                taken[obj] = len(lines)
            else:
                at[actor] = rng.choice(rooms)
                lines.append(f"{actor} {rng.choice(verbs)} to the {at[actor]}.")
                moved[actor] = len(lines)
        asks = [a for a in actors if a in at] + [o for o in holder]
        for thing in rng.sample(asks, min(2, len(asks))):
            if thing in objects:
                who = holder[thing]
                lines.append(f"Where is the {thing} now?\t{at[who]}\t{taken[thing]} {moved[who]}")
            else:
                lines.append(f"Where is {thing} now?\t{at[thing]}\t{moved[thing]}")
        text += [f"{i} {line}" for i, line in enumerate(lines, start=1)]
    return parse("\n".join(text) + "\n", source="lecture_stories")
