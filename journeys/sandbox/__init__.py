"""Sandbox validation: read a learner's namespace and tell them, check by check, whether their lab is right.

Flow: a source (the live API or a pasted dump) → Snapshot → the lab's checks → LabReport.
Only ``sources.py`` talks to Kubernetes; everything else is pure functions over plain dicts.
"""
