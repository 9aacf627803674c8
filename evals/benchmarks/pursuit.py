"""`pursuit-20q`, `pursuit-mediq`: accuracy vs number of questions for C-IP, IP and direct prediction.

Data (data directory, `pursuit/`; ryanchankh/Conformal-IP, Apache-2.0; MediQ under MedQA's terms):
- 20q: the 20 AwA2 animals, the closed bank of 84 yes/no queries and each animal's answers
  (`query_bank_closed_yesno`). One item per animal; the prior draws and the calibration histories
  use the same 20 animals (the label set is the whole class list; calibration histories are random
  query subsets, test histories are chosen by the policy). Prompts follow the reference's predictor.
- mediq: a specialty's split (`splits/<specialty>/split<k>_{train,cal,test}.csv`): items are the
  test cases, calibration uses only the cal cases and the prior draws only the train cases, so the
  three are disjoint. A case is its first context sentence, its question and options A-D (labels);
  `label_scoring` "letter" scores the letters after the listed options (the reference's), "text"
  scores each option's text as the answer (the 1.5B reads the case better so: BENCHMARKS-history.md).
  Deviation for a CPU: the reference answers questions with Llama-3.1-8B reading the case's atomic
  facts and asks questions an LLM derived from those facts; here the simulated patient answers
  with the fact sharing most content words with the question (`FactAnswerer`, "The patient cannot
  answer that." below `min_overlap`), and a case's queries are the specialty bank's questions its
  facts answer best (top `n_case_queries`; with `distinct_answers`, one question per answer it draws).
Per item, each method in `methods` runs agents/pursuit/ with the option `config` (a PursuitConfig:
α, budget, draws, candidates, seed, the posterior; its `method` is set per run from `methods`).
With `fit_temperatures`, the answers posterior's prior and answer temperatures are fitted first
(agents/pursuit/temperature.py) on histories of the fitting cases (`fit_samples`: MediQ's train
cases; 20q's animals, drawn with another seed) and saved beside the thresholds.
Posterior: "answers" (default; prior × the model's p(answer | animal, question), answers.py) or
"direct" (the reference's; `--set posterior=direct`). On 20q the answers are the dataset's: each
animal's dictionary holds the AwA2 binary attribute matrix (85 attributes, thresholded at the mean
of Osherson/Kemp's human ratings) phrased as yes/no questions. The thresholds
q̂_k (k = 0..budget) are calibrated once per process and cached as JSON under the model cache
(their path and values are in every outcome); on 20q the answers posterior's table (the model's
yes/no log-odds per animal and question) is cached there too, so a later run asks the model nothing. Metrics: `<method>_acc@k` (the prediction after k
questions, the final one after an earlier stop), `<method>_questions`, `cip_set_size`. The score is
C-IP's final accuracy (direct's when cip is not run).
"""

from __future__ import annotations

import ast
import csv
import hashlib
import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ratiocinator.agents.pursuit import (
    AnswerPosterior,
    DictAnswerer,
    Posterior,
    Problem,
    PursuitConfig,
    PursuitTask,
    Sample,
    Thresholds,
    calibrate,
    make_posterior,
)
from ratiocinator.agents.pursuit import run as run_pursuit
from ratiocinator.agents.pursuit.conformal import calibration_histories
from ratiocinator.agents.pursuit.temperature import TemperatureFit, fit_temperatures
from ratiocinator.errors import InvalidInput
from ratiocinator.evals.benchmark import (
    IDENTITY_WHEN_SET,
    Benchmark,
    Context,
    Item,
    Outcome,
    canonical_json,
    options_identity,
)
from ratiocinator.evals.results import write_json

METHODS = ("direct", "ip", "cip")
_WORD = re.compile(r"[a-z0-9]+")
_STOP = set(
    "a an the is are was were be been do does did you your yours have has had any of in on at to for with and or "
    "what which when where who how why that this these those there it its he she his her they their them i me my "
    "we our us if as by from about been being can could would should will shall may might not no yes than then "
    "so such ever recently noticed experienced experiencing other".split()
)


def content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 2}


class FactAnswerer:
    """A simulated patient: answers with the atomic fact sharing most content words with the question."""

    def __init__(
        self,
        facts: list[str],
        *,
        min_overlap: int = 2,
        unknown: str = "The patient cannot answer that.",
    ) -> None:
        self.facts = [re.sub(r"^\s*\d+\.\s*", "", f).strip() for f in facts]
        self._words = [content_words(f) for f in self.facts]
        self.min_overlap = min_overlap
        self.unknown = unknown

    def overlap(self, query: str | set[str]) -> tuple[int, int]:
        """(best overlap, index of that fact) for a query or its content words; ties go to the earlier fact."""
        words = content_words(query) if isinstance(query, str) else query
        best = max(
            range(len(self.facts)), key=lambda i: (len(words & self._words[i]), -i), default=-1
        )
        return (len(words & self._words[best]) if best >= 0 else 0), best

    def answer(self, query: str) -> str:
        n, i = self.overlap(query)
        return self.facts[i] if n >= self.min_overlap else self.unknown


class PursuitOptions(BaseModel):
    """Which methods run, the calibration histories per length, and C-IP's config: the paper's α and the
    reference's 64 draws; question budget and candidates kept small for a CPU run (paper: 20, all)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    methods: tuple[str, ...] = METHODS
    n_cal_per_length: int = Field(10, ge=1)
    #: the answers posterior's prior and answer temperatures fitted before calibration (agents/pursuit/
    #: temperature.py) on `n_cal_per_length` histories per length of the fitting cases (`fit_samples`),
    #: replacing the config's; off: the config's temperatures as they are
    fit_temperatures: bool = Field(False, json_schema_extra=IDENTITY_WHEN_SET)
    #: `method` is set per run from `methods`
    config: PursuitConfig = PursuitConfig(budget=4, n_candidate_queries=6, posterior="answers")


class MediQOptions(PursuitOptions):
    specialty: str = "internal_medicine"
    split: int = Field(0, ge=0, le=2)
    n_cal_per_length: int = Field(9, ge=1)
    n_case_queries: int = Field(20, ge=1)
    min_overlap: int = Field(2, ge=1)
    #: what the model's scores are taken of: each option's letter after the listed options (the
    #: reference's), or each option's text as the answer to the question (Problem.label_texts)
    label_scoring: Literal["letter", "text"] = Field("letter", json_schema_extra=IDENTITY_WHEN_SET)
    #: a case's queries: the bank's questions its facts answer best (False), or only the first of those that
    #: draw the same answer (True): questions whose answers repeat one another spend the budget on nothing
    distinct_answers: bool = Field(False, json_schema_extra=IDENTITY_WHEN_SET)
    #: the prior is the model's answer to the case (the direct answer); each patient answer moves it
    config: PursuitConfig = PursuitConfig(
        budget=3, n_label_samples=2, n_candidate_queries=3, posterior="answers", prior="model"
    )


#: the config's fields that were options of their own before the benchmark held the config: the
#: cached thresholds' file name is still a hash of the flat options, so earlier calibrations are found
_FLAT = ("alpha", "budget", "n_label_samples", "draw_labels_from", "n_candidate_queries", "seed")
#: the answers posterior's fields: in the key only when it is used (the direct one's files keep their names)
_ANSWERS = (
    "posterior", "likelihood", "prior", "answer_floor", "answer_temperature", "answer_prompt",
    "fact_prompt",
)


def flat_options(options: BaseModel) -> dict[str, Any]:
    """The options as the benchmark recorded them before it held a PursuitConfig (the thresholds' cache key)."""
    kept = options_identity(options)  # an option added later is in the key only when set (older keys kept)
    flat = {k: v for k, v in options.model_dump(exclude={"config"}).items() if k in kept}
    config = options.config.model_dump()  # type: ignore[attr-defined]
    extra = _ANSWERS if config["posterior"] != "direct" else ()
    if extra and config["prior_temperature"] != 1.0:  # in the key only off its default (older keys kept)
        extra = (*extra, "prior_temperature")
    if config["likelihood"] == "question" and extra:  # in the key only when used (older keys kept)
        extra = (*extra, "question_system")
    return {**flat, **{k: config[k] for k in (*_FLAT, *extra)}}


class _PursuitBench(Benchmark):
    needs_model = True
    method = "c-ip"
    data_subdir = "pursuit"

    def __init__(self, options: BaseModel | None = None, data_dir: Path | None = None) -> None:
        super().__init__(options, data_dir)
        bad = [m for m in self.options.methods if m not in METHODS]  # type: ignore[attr-defined]
        if bad:
            raise InvalidInput(
                f"{self.name} option methods: unknown {bad}; expected some of {METHODS}"
            )
        if self.options.fit_temperatures:  # type: ignore[attr-defined]
            self._check_fit()
        self.thresholds: Thresholds | None = None
        self.thresholds_path: Path | None = None
        self.odds_path: Path | None = None
        self.posterior: Posterior | None = None
        #: the config the runs use: the options' own, or with the fitted temperatures (fit_temperatures)
        self.config: PursuitConfig = self.options.config  # type: ignore[attr-defined]
        self.fit: TemperatureFit | None = None

    def _check_fit(self) -> None:
        """fit_temperatures needs what it fits (the answers posterior, a method that asks) and replaces the
        config's temperatures: set together they would be silently overwritten."""
        opts: Any = self.options
        config, where = opts.config, f"{self.name} option fit_temperatures"
        if config.posterior != "answers":
            raise InvalidInput(f"{where}: fits the answers posterior's temperatures; expected posterior=answers, "
                               "got posterior=direct")
        if not {"ip", "cip"} & set(opts.methods):
            raise InvalidInput(f"{where}: the direct answer does not use the posterior; expected methods with ip or cip")
        if (config.prior_temperature, config.answer_temperature) != (1.0, 1.0):
            raise InvalidInput(f"{where}: replaces prior_temperature and answer_temperature; expected them unset, got "
                               f"{config.prior_temperature} and {config.answer_temperature}")

    # subclasses: the calibration samples, the prior draws, and (problem, label, answerer, queries) per item
    def calibration_samples(self) -> tuple[list[Sample], list[str]]:
        raise NotImplementedError

    def prior_samples(self) -> list[Sample]:
        raise NotImplementedError

    def fit_samples(self) -> tuple[list[Sample], list[str], int]:
        """The cases the temperatures are fitted on, the query bank, and the draws' seed."""
        raise NotImplementedError

    def case(self, item: Item) -> tuple[Problem, str, Any, list[str]]:
        raise NotImplementedError

    def shared_problem(self) -> Problem | None:
        """The one problem every item shares (its answers table is cached on disk), or None."""
        return None

    def _odds_file(self, ctx: Context) -> Path | None:
        """Where the answers posterior's log-odds per question are cached (one model, one prompt)."""
        from ratiocinator.models import catalog

        config: PursuitConfig = self.options.config  # type: ignore[attr-defined]
        if config.posterior != "answers" or self.shared_problem() is None:
            return None
        prompt = {"label": config.fact_prompt, "question": config.question_system}.get(
            config.likelihood, config.answer_prompt)
        key = canonical_json(
            {"model": ctx.backend.info.identity, "likelihood": config.likelihood, "prompt": prompt}
        )
        return catalog.home() / "pursuit" / f"{self.name}-odds-{hashlib.sha256(key.encode()).hexdigest()[:16]}.json"

    def save_odds(self) -> None:
        """Write the answers table asked of the model so far (every item's run adds to it)."""
        problem = self.shared_problem()
        if self.odds_path is None or problem is None or not isinstance(self.posterior, AnswerPosterior):
            return
        self.odds_path.parent.mkdir(parents=True, exist_ok=True)
        self.odds_path.write_text(json.dumps(self.posterior.known_odds(problem)), encoding="utf-8")

    def setup(self, ctx: Context) -> None:
        from ratiocinator.models import catalog

        opts = self.options
        config: PursuitConfig = opts.config  # type: ignore[attr-defined]
        self.posterior = make_posterior(ctx.backend, config)
        self.odds_path = self._odds_file(ctx)
        if not {"ip", "cip"} & set(opts.methods):  # type: ignore[attr-defined]
            return  # direct prediction needs no thresholds
        key = canonical_json(
            {"bench": self.name, "model": ctx.backend.info.identity, "options": flat_options(opts)}
        )
        path = (
            catalog.home()
            / "pursuit"
            / f"{self.name}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.json"
        )
        with catalog.named_lock(path.stem):  # --workers K processes: one calibrates, the others read its files
            self._load_or_calibrate(ctx, path)
        self.thresholds_path = path

    def _load_or_calibrate(self, ctx: Context, path: Path) -> None:
        """The answers table and the thresholds from their files, or calibrated now and saved there."""
        opts: Any = self.options
        problem = self.shared_problem()
        if self.odds_path is not None and self.odds_path.is_file() and problem is not None:
            assert isinstance(self.posterior, AnswerPosterior)
            self.posterior.add_odds(problem, json.loads(self.odds_path.read_text(encoding="utf-8")))
        self._temperatures(path)
        config = self.config
        if path.is_file():
            self.thresholds = Thresholds.load(path)
        else:
            samples, queries = self.calibration_samples()
            # the answers posterior's model calls (per question) serve calibration and the runs alike
            shared = self.posterior if config.posterior == "answers" else Posterior(ctx.backend)
            self.thresholds = calibrate(
                ctx.backend,
                samples,
                queries,
                alpha=config.alpha,
                lengths=range(config.budget + 1),
                n_per_length=opts.n_cal_per_length,  # type: ignore[attr-defined]
                seed=config.seed,
                posterior=shared,
            )
            self.thresholds.save(path)
            self.save_odds()

    def _temperatures(self, path: Path) -> None:
        """With fit_temperatures: the fitted temperatures from their file beside the thresholds', or fitted
        now on the fitting cases and saved there; the posterior and the runs' config then use them."""
        opts: Any = self.options
        if not opts.fit_temperatures or not isinstance(self.posterior, AnswerPosterior):
            return
        fit_path = path.with_name(f"{path.stem}-temperatures.json")
        if fit_path.is_file():
            self.fit = _load_fit(fit_path)
        else:
            samples, queries, seed = self.fit_samples()
            drawn = calibration_histories(samples, queries, lengths=range(self.config.budget + 1),
                                          n_per_length=opts.n_cal_per_length, seed=seed)
            self.fit = fit_temperatures(self.posterior, [(s, h) for _, s, h in drawn])
            fit_path.parent.mkdir(parents=True, exist_ok=True)
            write_json(fit_path, self.fit.to_json())
        self.posterior = self.posterior.with_temperatures(self.fit.prior_temperature, self.fit.answer_temperature)
        self.config = self.posterior.config

    def run(self, item: Item, ctx: Context) -> Outcome:
        opts: Any = self.options
        budget = self.config.budget
        problem, label, answerer, queries = self.case(item)
        task = PursuitTask(
            problem=problem, queries=queries, samples=self.prior_samples(), answerer=answerer
        )
        metrics: dict[str, float] = {}
        output: dict[str, Any] = {
            "label": label,
            "posterior": self.config.posterior,
            "temperatures": None if self.fit is None else self.fit.to_json(),
            "thresholds": str(self.thresholds_path),
            "qhat": self.thresholds.qhat if self.thresholds else None,
        }
        for method in opts.methods:
            result = run_pursuit(
                task,
                backend=ctx.backend,
                config=self.config.model_copy(update={"method": method}),
                thresholds=self.thresholds,
                posterior=self.posterior,
            )
            output[method] = {
                "prediction": result.prediction,
                "set": list(result.prediction_set),
                "history": [list(h) for h in result.history],
                "stop": result.stop_reason,
                "verdict": result.verdict.to_json(),
            }
            if method == "direct":
                metrics["direct_acc"] = float(result.prediction == label)
                continue
            for k in range(budget + 1):
                metrics[f"{method}_acc@{k}"] = float(result.prediction_after(k) == label)
            metrics[f"{method}_questions"] = float(len(result.history))
            if method == "cip":
                metrics["cip_set_size"] = float(len(result.prediction_set))
        self.save_odds()
        score = metrics.get(
            f"cip_acc@{budget}",
            metrics.get("direct_acc", metrics.get(f"ip_acc@{budget}", 0.0)),
        )
        return Outcome(output=output, score=score, metrics=metrics)


# ------------------------------------------------------------------------------------- 20q


class TwentyQuestions(_PursuitBench):
    name = "pursuit-20q"
    description = "20 Questions (20 AwA2 animals, closed yes/no bank): C-IP vs IP vs direct accuracy by questions"
    Options = PursuitOptions
    shipped = "pursuit/20q"  # Conformal-IP's 20 Questions set (Apache-2.0) ships in the package

    def _load(self) -> None:
        if hasattr(self, "_classes"):
            return
        assert self.data_dir is not None
        root = self.data_dir / "pursuit" / "20q"
        lines = (root / "classes20.txt").read_text(encoding="utf-8").splitlines()
        self._classes = [ln.split("\t")[-1].strip() for ln in lines if ln.strip()]
        bank = root / "query_bank_closed"
        self._queries = [
            q.strip()
            for q in (bank / "queries.txt").read_text(encoding="utf-8").splitlines()
            if q.strip()
        ]
        self._answers = {}
        for c in self._classes:
            raw = json.loads(
                (root / "query_bank_closed_yesno" / "dicts" / f"{c}.json").read_text(
                    encoding="utf-8"
                )
            )
            self._answers[c] = DictAnswerer({k.strip(): v for k, v in raw.items()})
        names = ", ".join(self._classes)
        self._problem = Problem(
            system=f"You are playing the game of 20 questions. The animal is one of: {names}.",
            question="Which animal is it? Answer with the name of the animal only.",
            labels=tuple(self._classes),
        )
        self._samples = [
            Sample(problem=self._problem, label=c, answerer=self._answers[c]) for c in self._classes
        ]

    def items(self) -> list[Item]:
        self._load()
        return [Item(id=c, inputs={"animal": c}) for c in self._classes]

    def shared_problem(self) -> Problem | None:
        self._load()
        return self._problem

    def calibration_samples(self) -> tuple[list[Sample], list[str]]:
        self._load()
        return self._samples, self._queries

    def prior_samples(self) -> list[Sample]:
        self._load()
        return self._samples

    def fit_samples(self) -> tuple[list[Sample], list[str], int]:
        # the reference calibrates on the test animals themselves: the fit draws other histories of them
        samples, queries = self.calibration_samples()
        return samples, queries, self.config.seed + 1

    def case(self, item: Item) -> tuple[Problem, str, Any, list[str]]:
        self._load()
        label = item.inputs["animal"]
        return self._problem, label, self._answers[label], self._queries


# ----------------------------------------------------------------------------------- MediQ


def _mediq_problem(row: dict[str, str], scoring: str = "letter") -> tuple[Problem, str, list[str]]:
    """A case's problem: its first sentence and question; the options' letters are the labels, scored as
    letters after the listed options or (scoring "text") as the options' own texts."""
    options = ast.literal_eval(row["options"])
    letters = tuple(sorted(options))
    texts = tuple(str(options[k]).strip().strip(chr(34)).strip() for k in letters)
    first = ast.literal_eval(row["context"])[0]
    if scoring == "text":
        problem = Problem(
            system="You are a medical doctor. Answer the question about the patient.",
            question=f"Patient: {first}\nQuestion: {row['question']}",
            labels=letters,
            label_texts=texts,
        )
    else:
        choices = "\n".join(f"{k}. {t}" for k, t in zip(letters, texts, strict=True))
        problem = Problem(
            system="You are a medical doctor. Answer the multiple-choice question about the patient with the "
            "letter of the correct option only.",
            question=f"Patient: {first}\nQuestion: {row['question']}\n{choices}\nAnswer with {', '.join(letters)}.",
            labels=letters,
        )
    return problem, row["answer_idx"].strip(), list(ast.literal_eval(row["facts"]))


def _load_fit(path: Path) -> TemperatureFit:
    """A fit saved beside the thresholds, or a clear error naming the file (delete it to fit again)."""
    try:
        return TemperatureFit(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError) as exc:
        raise InvalidInput(f"{path}: not a temperature fit ({exc}); delete it and the run fits again") from None


class MediQ(_PursuitBench):
    name = "pursuit-mediq"
    description = "MediQ (one specialty's split): C-IP vs IP vs direct accuracy by questions"
    Options = MediQOptions

    def _rows(self, part: str) -> list[dict[str, str]]:
        assert self.data_dir is not None
        opts: Any = self.options
        path = (
            self.data_dir
            / "pursuit"
            / "mediq"
            / "splits"
            / opts.specialty
            / f"split{opts.split}_{part}.csv"
        )
        if not path.is_file():
            raise InvalidInput(
                f"{self.name}: {path} does not exist (option specialty: internal_medicine, "
                "neurology or pediatrics; split: 0-2)"
            )
        with path.open(encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f))

    def _load(self) -> None:
        if hasattr(self, "_bank"):
            return
        assert self.data_dir is not None
        opts: Any = self.options
        banks = json.loads(
            (self.data_dir / "pursuit" / "mediq" / "query_banks" / "split0.json").read_text()
        )
        self._bank = [q.strip() for q in banks[opts.specialty]]
        self._cases = {}
        for part in ("train", "cal", "test"):
            self._cases[part] = []
            for row in self._rows(part):
                problem, label, facts = _mediq_problem(row, opts.label_scoring)
                answerer = FactAnswerer(facts, min_overlap=opts.min_overlap)
                self._cases[part].append((row[""] or row.get("id", ""), problem, label, answerer))

    def _case_queries(self, answerer: FactAnswerer) -> list[str]:
        opts: Any = self.options
        if not hasattr(self, "_bank_words"):
            self._bank_words = [content_words(q) for q in self._bank]
        hits = [answerer.overlap(w) for w in self._bank_words]  # (overlap, fact index) per bank question
        ranked = sorted(range(len(self._bank)), key=lambda i: (-hits[i][0], i))
        if not opts.distinct_answers:
            return [self._bank[i] for i in ranked[: opts.n_case_queries]]
        kept: dict[int, str] = {}  # the fact drawn (-1: none, "cannot answer") -> the first question that draws it
        for i in ranked:
            kept.setdefault(hits[i][1] if hits[i][0] >= answerer.min_overlap else -1, self._bank[i])
            if len(kept) == opts.n_case_queries:
                break
        return list(kept.values())

    def items(self) -> list[Item]:
        self._load()
        return [
            Item(
                id=f"{cid}",
                inputs={"case": cid, "question": p.question},
                group=self.options.specialty,
            )  # type: ignore[attr-defined]
            for cid, p, _, _ in self._cases["test"]
        ]

    def _samples(self, part: str) -> list[Sample]:
        """A split's cases, each with its own questions (the bank's questions its facts answer best)."""
        self._load()
        return [Sample(problem=p, label=y, answerer=a, queries=tuple(self._case_queries(a)))
                for _, p, y, a in self._cases[part]]

    def calibration_samples(self) -> tuple[list[Sample], list[str]]:
        # like the reference, a calibration history asks random questions of the case's own set
        return self._samples("cal"), self._bank

    def prior_samples(self) -> list[Sample]:
        self._load()
        if not hasattr(self, "_prior"):
            self._prior = [
                Sample(problem=p, label=y, answerer=a) for _, p, y, a in self._cases["train"]
            ]
        return self._prior

    def fit_samples(self) -> tuple[list[Sample], list[str], int]:
        # the train cases (the prior draws'), each with its own questions: neither calibration nor test uses them
        return self._samples("train"), self._bank, self.config.seed

    def case(self, item: Item) -> tuple[Problem, str, Any, list[str]]:
        self._load()
        for cid, problem, label, answerer in self._cases["test"]:
            if cid == item.inputs["case"]:
                return problem, label, answerer, self._case_queries(answerer)
        raise InvalidInput(f"{self.name}: no test case {item.inputs['case']!r}")
