"""The master-data decision rules without Spark: the model's bands, a reviewer's decision over the model,
and clusters named by their smallest id (so reruns give the same master ids)."""

from __future__ import annotations

import pandas as pd

from jobs.silver.master import decide, masters

_PAIRS = pd.DataFrame({
    "canonical_id_l": ["a", "b", "d", "e"], "canonical_id_r": ["b", "c", "e", "f"], "company_id": ["c1"] * 4,
    "match_probability": [0.999, 0.97, 0.5, 0.001], "agreeing": ["email_token", "email_token", "name_token", ""],
})
_NONE_DECIDED = pd.DataFrame(columns=["canonical_id_l", "canonical_id_r", "company_id", "status", "decision_id"])


def test_given_scored_pairs_when_decided_then_the_bands_link_review_or_keep_apart():
    decided = decide(_PAIRS, _NONE_DECIDED, link=0.95, review_from=0.01)
    assert list(decided["decision"]) == ["linked", "linked", "review", "apart"]
    assert set(decided["decided_by"]) == {"model"}


def test_given_a_reviewer_decision_when_decided_then_it_wins_even_for_a_pair_the_model_never_proposed():
    reviewer = pd.DataFrame({"canonical_id_l": ["b", "d", "x"], "canonical_id_r": ["c", "e", "y"], "company_id": ["c1"] * 3,
                             "status": ["rejected", "approved", "approved"], "decision_id": ["d-1", "d-2", "d-3"]})
    decided = decide(_PAIRS, reviewer, link=0.95, review_from=0.01).set_index(["canonical_id_l", "canonical_id_r"])
    assert decided.loc[("b", "c"), "decision"] == "apart" and decided.loc[("b", "c"), "decided_by"] == "d-1"
    assert decided.loc[("d", "e"), "decision"] == "linked" and decided.loc[("x", "y"), "decision"] == "linked"
    assert decided.loc[("x", "y"), "company_id"] == "c1" and decided.loc[("a", "b"), "decided_by"] == "model"


def test_given_linked_pairs_when_clustered_then_connected_records_share_the_smallest_id():
    records = pd.DataFrame({"canonical_id": list("abcdefz")})
    decided = decide(_PAIRS, _NONE_DECIDED, link=0.95, review_from=0.01)
    master = masters(records, decided).set_index("canonical_id")["master_id"].to_dict()
    assert master == {"a": "a", "b": "a", "c": "a", "d": "d", "e": "e", "f": "f", "z": "z"}
