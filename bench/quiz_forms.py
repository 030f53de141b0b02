"""Quiz forms as a learner's browser fills them: read from a page, answered right or wrong, encoded.

The right answers come from the portal's own question specs (read once); the rest is HTML and form
encoding, so a benchmark posts exactly what a browser would.
"""

import re
import urllib.parse
from dataclasses import dataclass

from bench import portal_api


class AnswerBook:
    """Right (and wrong) answers for every question, read from the database once, to fill quiz forms."""

    def __init__(self):
        self.specs = portal_api.question_specs()

    def fields(self, question_ids, rng, right_share=0.8):
        fields = []
        for question_id in question_ids:
            spec = self.specs[question_id]
            right = rng.random() < right_share
            correct = [choice.id for choice in spec.choices if choice.is_correct]
            wrong = [choice.id for choice in spec.choices if not choice.is_correct]
            name = f"q{spec.id}"
            if spec.kind in ("single", "true_false"):
                fields.append((name, correct[0] if right or not wrong else rng.choice(wrong)))
            elif spec.kind == "multiple":
                chosen = correct if right or not wrong else [*correct[1:], rng.choice(wrong)]
                fields += [(name, choice_id) for choice_id in chosen]
            elif spec.kind in ("short", "kubectl"):
                fields.append((name, spec.accepted_answers[0] if right else "kubectl get pods"))
            else:
                order = [choice.id for choice in sorted(spec.choices, key=lambda choice: choice.order)]
                if not right:
                    rng.shuffle(order)
                fields += [(f"{name}-{choice_id}", position) for position, choice_id in enumerate(order, start=1)]
        return fields


@dataclass
class QuizForm:
    quiz_id: int
    token: str
    csrf: str
    question_ids: list

    def body(self, answers, rng, right_share=0.8):
        fields = [("csrfmiddlewaretoken", self.csrf), ("token", self.token)]
        fields += answers.fields(self.question_ids, rng, right_share)
        return urllib.parse.urlencode(fields)


def parse_quiz_form(page):
    section = re.search(r'<section id="quiz".*?</section>', page, re.S)
    if section is None:
        raise RuntimeError("the lesson page has no quiz form")
    html = section.group(0)
    question_ids = []
    for match in re.finditer(r'name="q(\d+)(?:-\d+)?"', html):
        question_id = int(match.group(1))
        if question_id not in question_ids:
            question_ids.append(question_id)
    return QuizForm(
        quiz_id=int(re.search(r'action="/quizzes/(\d+)/submit/"', html).group(1)),
        token=re.search(r'name="token" value="([^"]+)"', html).group(1),
        csrf=re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1),
        question_ids=question_ids,
    )


def multipart(fields, boundary="----kube-journeys-bench-boundary"):
    lines = []
    for name, value in fields:
        lines += [f"--{boundary}", f'Content-Disposition: form-data; name="{name}"', "", value]
    lines += [f"--{boundary}--", ""]
    return "\r\n".join(lines).encode(), f"multipart/form-data; boundary={boundary}"
