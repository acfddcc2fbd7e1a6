"""Text columns (issue #17): tokenization, the text kind, and a search from raw text to predict."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from datafiles import WITHOUT_APP, run_without_app, write_reviews

from automl_studio.engine.core.errors import DataError
from automl_studio.engine.data.dataset import Dataset
from automl_studio.engine.data.features import FeatureSchema, prepare_data
from automl_studio.engine.data.loading import load_dataset
from automl_studio.engine.data.profile import CONSTANT, TEXT, profile_dataset
from automl_studio.engine.data.text import TextFeature, char_ngrams, tokenize, words
from automl_studio.engine.space.templates import default_template_for, template_spec


def test_words_keep_accents_and_split_cjk_and_emoji() -> None:
    assert words("Café CRÈME, très bon!") == ["café", "crème", "très", "bon"]
    # A decomposed accent (e + combining acute) is the same word as the composed one.
    assert words("e\u0301te\u0301") == words("été") == ["été"]
    assert words("这部电影很好看") == ["这", "部", "电", "影", "很", "好", "看"]
    assert words("ok😀👍🏽great") == ["ok", "😀", "👍", "great"]
    assert words("I don't like it... at ALL?!") == ["i", "dont", "like", "it", "at", "all"]
    assert words("naïve (résumé) — Straße") == ["naïve", "résumé", "strasse"]
    assert words("!!! ...") == []


def test_word_ngrams_follow_the_unigrams() -> None:
    assert tokenize("very good film", 2) == ["very", "good", "film", "very good", "good film"]
    assert tokenize("good", 3) == ["good"]


def test_char_ngrams_are_fasttext_subwords_of_the_bounded_word() -> None:
    assert char_ngrams("where", 3) == ["#<wh", "#whe", "#her", "#ere", "#re>"]
    assert char_ngrams("where", 6) == ["#<where", "#where>"]
    assert char_ngrams("a", 3) == ["#<a>"] and char_ngrams("a", 4) == [] and char_ngrams("a", 0) == []
    # Whole code points: an accented letter, a CJK ideograph, an emoji outside the BMP.
    assert char_ngrams("café", 3) == ["#<ca", "#caf", "#afé", "#fé>"]
    assert char_ngrams("电", 3) == ["#<电>"] and char_ngrams("😀", 2) == ["#<😀", "#😀>"]
    for word, n in (("naïve", 2), ("😀👍", 3), ("电影", 2), ("e\u0301", 2)):  # the last: a combining accent
        grams = char_ngrams(word, n)
        assert all(len(gram) == 1 + n for gram in grams)  # n code points after the '#'
        assert "".join(gram[1] for gram in grams) + grams[-1][2:] == f"<{word}>"  # they tile the word
    # Words, then word pairs, then each word's subwords; a subword never equals a word.
    assert tokenize("Her place", 2, 3) == ["her", "place", "her place", "#<he", "#her", "#er>",
                                           "#<pl", "#pla", "#lac", "#ace", "#ce>"]
    assert tokenize("Her place", 2) == tokenize("Her place", 2, 0) == ["her", "place", "her place"]
    assert tokenize("e\u0301te\u0301 😀!", 1, 3) == ["été", "😀", "#<ét", "#été", "#té>", "#<😀>"]


def test_text_feature_with_char_ngrams_knows_a_misspelt_word_by_its_subwords() -> None:
    train = ["wonderful film", "awful film", "a wonderful day", "an awful day"] * 3
    feature = TextFeature.fit("review", train, offset=1, ngrams=1, char_ngrams=3)
    assert feature.char_ngrams == 3 and "#won" in feature.vocabulary and "#ful" in feature.vocabulary
    assert feature.length == 16  # "a wonderful day": 3 words + 1 + 9 + 3 subwords (one per letter)
    plain = TextFeature.fit("review", train, offset=1, ngrams=1)
    # "wonderfull" is unknown as a word, but most of its subwords are known.
    assert plain.out_of_vocabulary_rate(["wonderfull"]) == 1.0
    assert feature.out_of_vocabulary_rate(["wonderfull"]) == 3 / 11  # the word, "#ull" and "#ll>" of 1 + 10
    ids = feature.encode(["wonderfull"])[0]
    assert ids[0] == 1 and feature.offset + 1 + feature.vocabulary.index("#<wo") in ids.tolist()
    # The vocabulary cap counts words and subwords together; the rule travels with the feature.
    capped = TextFeature.fit("review", train, offset=1, ngrams=1, max_tokens=10, char_ngrams=3)
    assert len(capped.vocabulary) == 10 and any(t.startswith("#") for t in capped.vocabulary)
    stored = TextFeature.from_dict(json.loads(json.dumps(feature.to_dict())))
    assert stored == feature and stored.encode(["wonderfull"]).tolist() == feature.encode(["wonderfull"]).tolist()
    assert TextFeature.from_dict({k: v for k, v in plain.to_dict().items() if k != "char_ngrams"}) == plain
    from automl_studio.engine.data.text import TextOptions, token_statistics

    stats = token_statistics("review", train, ["wonderfull day"], TextOptions(2, 10_000, 3))
    assert stats.char_ngrams == 3 and stats.length == 18  # "a wonderful day": 3 + 2 pairs + 13 subwords
    assert ", words, 2-grams and character 3-grams; " in stats.describe()
    # A long text keeps its words and pairs; the cut at the sequence length takes subwords first.
    long = TextFeature.fit("review", ["one two three four five six seven"], 1, ngrams=2, char_ngrams=3)
    short = TextFeature(long.name, long.vocabulary, long.offset, 13, 2, long.max_tokens, 3)
    assert short.encode(["one two three four five six seven"])[0].tolist() == \
        [2 + long.vocabulary.index(t) for t in tokenize("one two three four five six seven", 2)]


def test_vocabulary_comes_from_the_fitted_texts_only_and_unknown_words_get_the_oov_id() -> None:
    train = ["good film", "good book", "bad film", "a good good day", "fine"] * 4
    feature = TextFeature.fit("review", train, offset=1)
    assert feature.vocabulary[0] == "good"  # the most frequent first
    assert "awful" not in feature.vocabulary
    assert feature.length == 4  # the 95th percentile of lengths (1, 2 or 4 words)
    ids = feature.encode(["good awful film", None, "", "a good good day and more words"])
    good = 1 + 1 + feature.vocabulary.index("good")
    film = 1 + 1 + feature.vocabulary.index("film")
    assert ids.dtype == np.int32 and ids.shape == (4, 4)
    assert ids[0].tolist() == [good, 1, film, 0]  # 1: out of vocabulary, 0: padding
    # No tokens: one unknown word, never all padding (a masked average of nothing is NaN).
    assert ids[1].tolist() == ids[2].tolist() == [1, 0, 0, 0]
    assert len(ids[3]) == 4 and 0 not in ids[3]  # cut at the sequence length
    assert TextFeature.from_dict(json.loads(json.dumps(feature.to_dict()))) == feature
    assert feature.out_of_vocabulary_rate(["good awful"]) == 0.5


def test_free_text_is_detected_as_text_and_used_with_token_statistics(tmp_path: Path) -> None:
    profile = profile_dataset(load_dataset(str(write_reviews(tmp_path / "r.csv"))), "label")
    review = profile.column("review")
    assert review.kind == TEXT and review.used
    assert review.reason.startswith("text: ") and "distinct words" in review.reason
    assert "95th percentile" in review.reason
    assert [c.name for c in profile.feature_columns] == ["review"]
    assert not any("review" in w for w in profile.warnings)


def test_token_statistics_count_what_the_model_gets_with_ngrams_on(tmp_path: Path) -> None:
    """The Data page's statistics: the search's own split, vocabulary and n-grams, not the words."""
    from automl_studio.engine.data.features import text_token_statistics
    from automl_studio.engine.data.text import TextOptions

    dataset = load_dataset(str(write_reviews(tmp_path / "r.csv")))
    profile = profile_dataset(dataset, "label")
    for options in (TextOptions(ngrams=1), TextOptions(ngrams=2), TextOptions(ngrams=3, max_tokens=60)):
        [stats] = text_token_statistics(dataset, profile, validation_fraction=0.25, test_fraction=0.15, seed=4,
                                        text=options)
        data = prepare_data(dataset, profile, validation_fraction=0.25, test_fraction=0.15, seed=4, text=options)
        [feature] = data.schema.text
        validation = dataset.frame["review"].iloc[data.split_indices[1]].tolist()
        assert stats.vocabulary == len(feature.vocabulary) and stats.length == feature.length
        assert stats.out_of_vocabulary == pytest.approx(feature.out_of_vocabulary_rate(validation))
        assert stats.ngrams == options.ngrams
        if options.max_tokens == 60:
            assert stats.vocabulary == 60 < stats.distinct and "the 60 most frequent of" in stats.describe()
    # A text of n words is n tokens, and n + (n - 1) with word pairs: lengths count the pairs.
    words_only, pairs = (text_token_statistics(dataset, profile, text=TextOptions(ngrams=n))[0] for n in (1, 2))
    train = dataset.frame["review"].iloc[prepare_data(dataset, profile).split_indices[0]]
    for stats, tokens in ((words_only, lambda n: n), (pairs, lambda n: 2 * n - 1)):
        p5, p50, p95 = np.percentile([tokens(len(words(t))) for t in train], [5, 50, 95])
        assert stats.lengths == (int(p5), int(p50), int(np.ceil(p95))) and stats.length == int(np.ceil(p95))
    assert pairs.lengths[2] > words_only.lengths[2] and pairs.vocabulary > words_only.vocabulary
    # Each review ends in its own number (#17): unknown to the vocabulary, and pairs with it too.
    assert pairs.out_of_vocabulary > words_only.out_of_vocabulary > 0
    assert "words and 2-grams" in pairs.describe() and "13 tokens" not in words_only.describe()


def test_text_and_table_columns_feed_one_two_branch_model(tmp_path: Path) -> None:
    dataset = load_dataset(str(write_reviews(tmp_path / "r.csv", with_stars=True)))
    assert profile_dataset(dataset, "label").column("stars").kind == "numeric"  # 1-5: an ordered number
    profile = profile_dataset(dataset, "label", kinds={"stars": "categorical"})
    data = prepare_data(dataset, profile)
    assert data.schema is not None and [t.name for t in data.schema.text] == ["review"]
    assert set(data.signature.inputs) == {"categorical", "text"}
    assert data.signature.text_tokens == data.schema.text_tokens > 50
    [note] = [n for n in data.notes if n.startswith("text column 'review'")]
    assert "tokens learnt from the training rows" in note and "of validation tokens out of vocabulary" in note
    # The vocabulary is learnt on the training rows: a word only in a held-out review is unknown.
    train_rows = set(data.split_indices[0].tolist())
    held_out = [i for i in range(len(dataset.frame)) if i not in train_rows]
    tag = f"#{held_out[0]}"
    assert tag[1:] not in data.schema.text[0].vocabulary
    spec = template_spec(default_template_for(data.signature.inputs), inputs=list(data.signature.inputs))
    assert spec["name"] == "text"
    sources = {n["params"]["source"] for n in spec["nodes"] if n["type"] == "Input"}
    assert sources == {"text", "categorical"}
    assert any(n["type"] == "Concatenate" for n in spec["nodes"])


def test_forcing_text_on_a_column_kind_and_back(tmp_path: Path) -> None:
    path = write_reviews(tmp_path / "r.csv", with_stars=True)
    dataset = load_dataset(str(path))
    as_category = profile_dataset(dataset, "label", kinds={"review": "categorical"})
    assert as_category.column("review").kind == "categorical"
    excluded = profile_dataset(dataset, "label", exclude=("review",))
    assert not excluded.column("review").used
    frame = dataset.frame.assign(note=[f"n{i % 7}" for i in range(len(dataset.frame))])
    table = Dataset(path=str(path), kind="table", fingerprint="", frame=frame)
    forced = profile_dataset(table, "label", kinds={"note": "text"})
    assert forced.column("note").kind == TEXT and "chosen by you" in forced.column("note").reason


def test_ngrams_and_max_tokens_from_the_search_config_shape_the_vocabulary(tmp_path: Path) -> None:
    from automl_studio.engine.core.config import SearchConfig, SearchDocument
    from automl_studio.engine.core.errors import UserError
    from automl_studio.engine.data.identity import prepare_for_search

    path = write_reviews(tmp_path / "r.csv")
    assert SearchConfig(str(path), str(tmp_path / "p"), target="label").ngrams == 2  # words and pairs by default
    words_only = prepare_for_search(SearchConfig(str(path), str(tmp_path / "p"), target="label", ngrams=1))
    config = SearchConfig(str(path), str(tmp_path / "p"), target="label", ngrams=2, max_tokens=40)
    pairs = prepare_for_search(config)
    [unigram], [text] = words_only.schema.text, pairs.schema.text
    assert unigram.ngrams == 1 and not any(" " in t for t in unigram.vocabulary) and len(unigram.vocabulary) > 40
    assert text.ngrams == 2 and text.max_tokens == 40 and len(text.vocabulary) == 40
    assert any(" " in t for t in text.vocabulary)  # word pairs compete with words for the 40 places
    assert text.length > unigram.length  # a text of n words has n + (n - 1) tokens
    assert pairs.signature.text_tokens == 1 + 41
    assert "tokens (words and word n-grams up to 2) learnt" in " ".join(pairs.notes)
    # What the exported model's metadata holds, and what predict rebuilds from it.
    stored = FeatureSchema.from_dict(json.loads(json.dumps(pairs.schema.to_dict())))
    assert stored.text[0].to_dict()["ngrams"] == 2 and stored.text[0].to_dict()["max_tokens"] == 40
    pair = next(t for t in text.vocabulary if " " in t)
    assert text.offset + 1 + text.vocabulary.index(pair) in stored.transform(
        pd.DataFrame({"review": [pair.upper()]}))["text"][0]
    # The project document keeps both settings; out-of-range ones are refused naming the flag.
    assert SearchConfig.from_json(config.to_json()) == config
    assert SearchDocument(config).to_dict()["search"]["ngrams"] == 2
    with pytest.raises(UserError, match="--ngrams must be 1 .* to 3"):
        config.replace(ngrams=4)
    with pytest.raises(UserError, match="--max-tokens must be at least 1"):
        config.replace(max_tokens=0)


def test_char_ngrams_from_the_search_config_reach_the_vocabulary_notes_and_document(tmp_path: Path) -> None:
    from automl_studio.engine.core.config import CONFIG_SCHEMA_VERSION, SearchConfig, SearchDocument
    from automl_studio.engine.core.errors import UserError
    from automl_studio.engine.data.identity import prepare_for_search

    path = write_reviews(tmp_path / "r.csv")
    default = SearchConfig(str(path), str(tmp_path / "p"), target="label")
    assert default.char_ngrams == 0  # opt-in: default searches tokenize as before
    [plain] = prepare_for_search(default).schema.text
    config = default.replace(char_ngrams=3)
    prepared = prepare_for_search(config)
    [text] = prepared.schema.text
    assert plain.char_ngrams == 0 and not any(t.startswith("#") for t in plain.vocabulary)
    assert text.char_ngrams == 3 and "#<fi" in text.vocabulary and text.length > plain.length
    assert set(plain.vocabulary) < set(text.vocabulary)  # the words and pairs stay; subwords join them
    assert "(words and word n-grams up to 2, character 3-grams) learnt" in " ".join(prepared.notes)
    stored = FeatureSchema.from_dict(json.loads(json.dumps(prepared.schema.to_dict())))
    assert stored.text[0] == text
    # The project document keeps the setting; a version-3 document (no char_ngrams) reads as off.
    assert SearchConfig.from_json(config.to_json()) == config
    document = SearchDocument(config).to_dict()
    assert document["schema_version"] == CONFIG_SCHEMA_VERSION >= 4 and document["search"]["char_ngrams"] == 3
    older = {**document, "schema_version": 3, "search": {k: v for k, v in document["search"].items()
                                                        if k != "char_ngrams"}}
    assert SearchDocument.from_dict(older).config.char_ngrams == 0
    with pytest.raises(UserError, match="--char-ngrams must be 0 .* to 6"):
        config.replace(char_ngrams=7)
    with pytest.raises(UserError, match="--char-ngrams"):
        config.replace(char_ngrams=-1)


def _table(tmp_path: Path, column: list) -> Dataset:
    frame = pd.DataFrame({"review": column, "label": ["pos", "neg"] * (len(column) // 2)})
    return Dataset(path=str(tmp_path / "t.csv"), kind="table", fingerprint="", frame=frame)


def test_a_text_column_that_is_all_identical_or_empty_is_refused_naming_it(tmp_path: Path) -> None:
    same = _table(tmp_path, ["the same review every time"] * 40)
    assert profile_dataset(same, "label", keep_going=True).column("review").kind == CONSTANT
    with pytest.raises(DataError, match=r"no usable feature columns besides the target 'label' "
                                        r"\('review' has a single value\)"):
        profile_dataset(same, "label")
    with pytest.raises(DataError, match=r"t\.csv: text column 'review' holds the same text in every row"):
        profile_dataset(same, "label", kinds={"review": "text"})
    punctuation = _table(tmp_path, ["...", "!!", "?", "--"] * 10)
    with pytest.raises(DataError, match=r"t\.csv: text column 'review' has no words"):
        profile_dataset(punctuation, "label", kinds={"review": "text"})
    empty = _table(tmp_path, [None] * 40)
    with pytest.raises(DataError, match=r"\('review' is empty\)"):
        profile_dataset(empty, "label")
    with pytest.raises(DataError) as raised:
        profile_dataset(same, "label", kinds={"review": "text"})
    assert "\n" not in str(raised.value)  # one line


def test_the_command_line_names_an_all_identical_text_column_beside_other_columns(tmp_path: Path, capsys) -> None:
    from automl_studio.engine.cli import main

    data = tmp_path / "same.csv"
    rows = [f"the same review every time,{i % 5},{'pos' if i % 2 else 'neg'}" for i in range(60)]
    data.write_text("review,stars,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    code = main(["search", str(data), "--target", "label", "--max-trials", "1", "--max-epochs", "1",
                 "--no-refit", "--project", str(tmp_path / "proj")])
    assert code == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if "left out" in line]
    assert notes == ["automl-studio: note: column 'review' has a single value "
                     "('the same review every time' in every row); left out"]


def test_feature_schema_refuses_a_text_column_without_words_in_training(tmp_path: Path) -> None:
    dataset = _table(tmp_path, ["good film here"] + ["..."] * 39)
    profile = profile_dataset(dataset, "label", kinds={"review": "text"}, check_leaks=False)
    with pytest.raises(DataError, match=r"t\.csv: text column 'review' has no words in the training rows"):
        FeatureSchema.fit(dataset.frame.iloc[1:], profile)


LOAD_WITHOUT_APP = WITHOUT_APP + r"""import keras, numpy as np
model = keras.models.load_model(sys.argv[1])
with np.load(sys.argv[2]) as data:
    inputs = {k: data[k] for k in data.files}
print(json.dumps({"inputs": sorted(inputs), "pred": np.asarray(model.predict(inputs, verbose=0)).tolist()}))
"""


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([sys.executable, "-m", "automl_studio.engine.cli", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=1200)


def _search_export_and_predict(tmp_path: Path, rows: list[str], *flags: str) -> tuple[dict, pd.DataFrame, dict]:
    """A command-line search on the reviews (``review`` as text, ``stars`` beside it as categories) with ``flags``,
    exported to ``model.h5``, then ``predict`` on ``rows`` (each with 3 stars).

    Checks on the way: the search's test accuracy (>= 0.8, the words carry the label), plain Keras
    in a fresh interpreter reloads the .h5 (inputs ``categorical`` and ``text``), and predict's
    probabilities are the model's on the rows put through the schema in this process.

    Returns:
        The model's metadata, predict's output and the model's inputs for ``rows``.
    """
    import keras

    from automl_studio.engine.export.model_info import read_metadata

    write_reviews(tmp_path / "reviews.csv", with_stars=True)
    proc = _cli("search", "reviews.csv", "--target", "label", "--text", "review", "--categorical", "stars",
                "--tuner", "random", "--max-epochs", "6", "--refits", "1", "--project", "p", "--export", "model.h5", *flags, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout[proc.stdout.index("{"):])
    assert summary["test_metrics"]["accuracy"] >= 0.8  # the words carry the label
    meta = read_metadata(tmp_path / "model.h5")

    # A fresh interpreter without automl_studio reloads the .h5 with plain Keras.
    sample = tmp_path / "p" / "best" / "sample_inputs.npz"
    fresh = subprocess.run([sys.executable, "-c", LOAD_WITHOUT_APP, str(tmp_path / "model.h5"), str(sample)],
                           capture_output=True, text=True, timeout=300)
    assert fresh.returncode == 0, fresh.stderr[-2000:]
    assert json.loads(fresh.stdout.strip().splitlines()[-1])["inputs"] == ["categorical", "text"]

    with open(tmp_path / "new.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["review", "stars"])
        writer.writerows([[r, 3] for r in rows])
    proc = _cli("predict", "model.h5", "new.csv", "--output", "pred.csv", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    predicted = pd.read_csv(tmp_path / "pred.csv")
    assert len(predicted) == len(rows)

    # The same rows through the schema and the model in this process: the same probabilities.
    schema = FeatureSchema.from_dict(meta["feature_schema"])
    inputs = schema.transform(pd.DataFrame({"review": [r or None for r in rows], "stars": [3] * len(rows)}))
    probabilities = keras.models.load_model(tmp_path / "model.h5").predict(inputs, verbose=0)
    assert np.allclose(predicted["probability_pos"].to_numpy(), probabilities[:, 0], atol=1e-5)
    return meta, predicted, inputs


@pytest.mark.slow
@pytest.mark.timeout(1800)  # two CLI processes and a search: ~5 minutes on a busy 2-core machine
def test_cli_text_search_exports_an_h5_that_predict_reproduces_on_raw_text(tmp_path: Path) -> None:
    # New reviews (unseen words included) and a missing one.
    rows = ["the film was brilliant, so wonderful 😀", "电影 was 难看, really awful", "",
            "this café was délicieux, vraiment superb and unheard-of"]
    meta, predicted, _ = _search_export_and_predict(tmp_path, rows, "--max-trials", "2", "--ngrams", "2",
                                                    "--max-tokens", "300")
    [text] = meta["feature_schema"]["text"]
    assert text["name"] == "review" and text["length"] >= 9 and "très" in text["vocabulary"]
    assert "电" in text["vocabulary"] and "😀" in text["vocabulary"]
    assert text["ngrams"] == 2 and text["max_tokens"] == 300 and len(text["vocabulary"]) <= 300
    assert "the film" in text["vocabulary"]  # a word pair, which predict's first row holds too
    assert json.loads((tmp_path / "p" / "search_config.json").read_text())["search"]["ngrams"] == 2
    assert predicted["prediction"].iloc[0] == "pos" and predicted["prediction"].iloc[1] == "neg"


@pytest.mark.slow
@pytest.mark.timeout(1800)  # two CLI processes and a search
def test_cli_search_with_char_ngrams_exports_an_h5_that_predict_reproduces_on_raw_text(tmp_path: Path) -> None:
    # Raw text with a misspelt word ("brilliantt") whose subwords the vocabulary knows.
    rows = ["the film was brilliantt, so wonderful 😀", "电影 was 难看, really awful", "",
            "this café was délicieux, vraiment superb"]
    meta, _, inputs = _search_export_and_predict(tmp_path, rows, "--max-trials", "1", "--char-ngrams", "3")
    [text] = meta["feature_schema"]["text"]
    assert text["char_ngrams"] == 3 and text["ngrams"] == 2
    assert "#<fi" in text["vocabulary"] and "#<电>" in text["vocabulary"] and "#<😀>" in text["vocabulary"]
    assert json.loads((tmp_path / "p" / "search_config.json").read_text())["search"]["char_ngrams"] == 3
    schema = FeatureSchema.from_dict(meta["feature_schema"])
    brilliant = schema.text[0].offset + 1 + schema.text[0].vocabulary.index("#bri")
    assert brilliant in inputs["text"][0]  # the subwords reach the model


def _text_model(tmp_path: Path, **values: object):
    """The text template's network for ``values`` on 12-token texts of ids 0…29, fitted one epoch."""
    from automl_studio.engine.data.signature import DataSignature
    from automl_studio.engine.space.spec import SearchSpace, fixed_chooser
    from automl_studio.engine.train.hypermodel import build_model

    signature = DataSignature(task="classification", n_classes=2, inputs={"text": (12,)}, text_tokens=30)
    space = SearchSpace.from_dict(template_spec("text", inputs=["text"]))
    model = build_model(space, signature, fixed_chooser({"text.embedding_dim": 32, **values}))
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 30, size=(32, 12)).astype("int32")
    for row, length in enumerate(rng.integers(2, 12, size=32)):
        ids[row, length:] = 0  # padded like TextFeature.encode
    model.fit({"text": ids}, (ids[:, 0] > 15).astype("int64"), epochs=1, batch_size=16, verbose=0)
    return model, {"text": ids[:6]}


def test_the_text_template_masks_padding_in_recurrent_attention_and_pooling_layers(tmp_path: Path) -> None:
    import keras

    # fastText first (no optional layer), then the recurrent and attention layers over the tokens.
    for values in ({}, {"rnn.enabled": True, "rnn.layer": "GRU", "transformer.enabled": True}):
        model, sample = _text_model(tmp_path, **values)
        before = model.predict(sample, verbose=0)
        embedding = next(layer for layer in model.layers if isinstance(layer, keras.layers.Embedding))
        assert embedding.mask_zero
        weights = embedding.get_weights()[0]
        weights[0] += 3.0  # the padding id's vector: masked, so it changes nothing
        embedding.set_weights([weights])
        np.testing.assert_allclose(model.predict(sample, verbose=0), before, rtol=0, atol=1e-6)


def test_the_text_template_search_covers_recurrent_conv_and_transformer_layers() -> None:
    spec = template_spec("text", inputs=["text"])
    optional = {n["id"]: n["type"] for n in spec["nodes"] if n.get("optional")}
    assert {"rnn": "Bidirectional", "transformer": "TransformerEncoder", "conv": "Conv1D"}.items() <= optional.items()
    # The encoder block learns a vector per position: attention alone would read a bag of words.
    assert next(n for n in spec["nodes"] if n["id"] == "transformer")["params"]["position_embedding"] is True
    chain = [n["type"] for n in spec["nodes"]]
    assert chain.index("Bidirectional") < chain.index("TransformerEncoder") < chain.index("Conv1D") \
        < chain.index("GlobalAveragePooling1D")
    without = template_spec("text", {"attention": False, "conv": False}, inputs=["text"])
    assert not {"TransformerEncoder", "Conv1D"} & {n["type"] for n in without["nodes"]}


@pytest.mark.slow
def test_a_masked_text_model_exports_to_h5_and_reloads_with_plain_keras_in_a_fresh_process(tmp_path: Path) -> None:
    from automl_studio.engine.export.writers import export_model
    from automl_studio.engine.train.hypermodel import average_models

    first, sample = _text_model(tmp_path, **{"rnn.enabled": True, "transformer.enabled": True})
    second, _ = _text_model(tmp_path, **{"conv.enabled": True, "dense.enabled": True})
    from automl_studio.engine.data.signature import DataSignature
    signature = DataSignature(task="classification", n_classes=2, inputs={"text": (12,)}, text_tokens=30)
    for name, model in (("masked", first), ("average", average_models([first, second], signature))):
        expected = np.asarray(model.predict(sample, verbose=0))
        export_model(model, tmp_path / f"{name}.h5", {"name": name}, sample)
        np.savez(tmp_path / "sample.npz", **sample)
        reply = run_without_app(LOAD_WITHOUT_APP, tmp_path / f"{name}.h5", tmp_path / "sample.npz")
        np.testing.assert_allclose(np.asarray(reply["pred"]), expected, rtol=0, atol=1e-6)


def test_the_h5_config_drops_only_the_ops_that_compute_masks() -> None:
    from automl_studio.engine.export.writers import h5_config

    def tensor(name: str) -> dict:
        return {"class_name": "__keras_tensor__", "config": {"keras_history": [name, 0, 0]}}

    def layer(name: str, *args: str, **kwargs: str) -> dict:
        return {"name": name, "class_name": name.title(),
                "inbound_nodes": [{"args": [tensor(a) for a in args], "kwargs": {k: tensor(v) for k, v in kwargs.items()}}]
                if args else []}

    config = {"class_name": "Functional", "config": {"output_layers": [["head", 0, 0]], "layers": [
        layer("text"), layer("embed", "text"), layer("not_equal", "text"), layer("any", "not_equal"),
        layer("rnn", "embed", mask="any"), layer("scale", "rnn"),  # an op whose output is data
        layer("attention", "scale", "scale", query_mask="not_equal", value_mask="not_equal"),
        layer("head", "attention")]}}
    out = h5_config(config, {"not_equal", "any", "scale"})["config"]["layers"]
    assert [entry["name"] for entry in out] == ["text", "embed", "rnn", "scale", "attention", "head"]
    assert all(not node["kwargs"] for entry in out for node in entry["inbound_nodes"])


@pytest.mark.slow
@pytest.mark.timeout(900)  # one one-epoch trial, then the predict command in its own process
def test_cli_predict_reads_the_header_of_one_column_of_short_texts_named_as_the_model_input(
        tmp_path: Path) -> None:
    """``text`` above ``ok``, ``lol``, ``text``...: by its values the first row could be data; the
    model needs a column ``text``, so the row naming it is the header."""
    from automl_studio.engine.core.config import SearchConfig
    from automl_studio.engine.search.session import run_search

    rng = np.random.default_rng(0)
    good, bad = ["great", "loved it", "superb", "so good"], ["awful", "hated it", "boring", "so bad"]
    lines = ["text,label"] + [f"{rng.choice(good if i % 2 else bad)},{'pos' if i % 2 else 'neg'}"
                              for i in range(80)]
    (tmp_path / "train.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_search(SearchConfig(
        data_path=str(tmp_path / "train.csv"), project_dir=str(tmp_path / "p"), target="label",
        column_kinds={"text": "text"}, tuner="random", max_trials=1, max_epochs=1, refit=False,
        export_path=str(tmp_path / "model.h5"), export_keras=False, tensorboard=False))
    assert result.status == "completed"

    (tmp_path / "new.csv").write_text("text\nok\nlol\ntext\nk\n", encoding="utf-8")
    proc = _cli("predict", "model.h5", "new.csv", "--output", "pred.csv", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "no header row" not in proc.stderr
    predicted = pd.read_csv(tmp_path / "pred.csv", keep_default_na=False)
    assert predicted["row"].tolist() == [2, 3, 4, 5]  # the file's lines, after its header
    assert set(predicted["prediction"]) <= {"pos", "neg"}
