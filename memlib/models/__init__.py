"""The lecture's models: LSTM baselines, Memory Networks, End-to-End Memory Networks, NTMs.

Every model's forward returns the answer logits and a *trace* (a small dataclass of what a
learner wants to see); `memlib.viz` draws traces and never reaches into a model.
"""
