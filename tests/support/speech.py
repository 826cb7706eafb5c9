"""Transcript scoring shared by the worker tests: word error rates, also aligned per sentence (the signals
themselves come from `workers.synthetic`, which the benchmarks share)."""

from __future__ import annotations

import re

import numpy as np


def words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]", " ", text.lower().replace("’", "'")).split()


def _alignment(ref: list[str], hyp: list[str]) -> list[int]:
    """Levenshtein alignment: per reference word, 1 if it was substituted or deleted (insertions are charged to
    the reference word they follow)."""
    n, m = len(ref), len(hyp)
    d = np.zeros((n + 1, m + 1), np.int32)
    d[:, 0] = np.arange(n + 1)
    d[0, :] = np.arange(m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d[i, j] = min(d[i - 1, j] + 1, d[i, j - 1] + 1, d[i - 1, j - 1] + (ref[i - 1] != hyp[j - 1]))
    errors = [0] * n
    i, j = n, m
    while i > 0 or j > 0:
        if i > 0 and j > 0 and d[i, j] == d[i - 1, j - 1] + (ref[i - 1] != hyp[j - 1]):
            errors[i - 1] += int(ref[i - 1] != hyp[j - 1])
            i, j = i - 1, j - 1
        elif i > 0 and d[i, j] == d[i - 1, j] + 1:
            errors[i - 1] += 1
            i -= 1
        else:
            errors[max(0, i - 1)] += 1 if n else 0
            j -= 1
    return errors


def wer(reference: str, hypothesis: str) -> float:
    ref = words(reference)
    return sum(_alignment(ref, words(hypothesis))) / max(1, len(ref))


def sentence_wers(sentences: list[str], hypothesis: str) -> list[float]:
    """The word error rate of each sentence within one aligned transcript (a lost sentence scores 1.0)."""
    refs = [words(s) for s in sentences]
    errors = _alignment([w for r in refs for w in r], words(hypothesis))
    out, k = [], 0
    for r in refs:
        out.append(sum(errors[k : k + len(r)]) / max(1, len(r)))
        k += len(r)
    return out
