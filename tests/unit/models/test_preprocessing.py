"""`preprocessing_fn` on a handful of rows, analysed and applied by real tf.Transform on Beam."""

from __future__ import annotations

import numpy as np
import pytest

from models import features as F
from tests.unit.models.transform_rows import INPUTS, ROWS, UNSEEN, analyse_and_transform


@pytest.fixture(scope="module")
def transformed(tmp_path_factory):
    return analyse_and_transform(tmp_path_factory.mktemp("tft"), ROWS, UNSEEN)


def test_label_is_derived_from_tips_and_fare(transformed):
    rows, _ = transformed
    assert [int(r["big_tipper_xf"]) for r in rows] == [1, 0, 1, 0]


def test_numeric_features_are_z_scored(transformed):
    rows, _ = transformed
    fares = np.array([r["fare_xf"] for r in rows])
    assert fares.mean() == pytest.approx(0.0, abs=1e-6)
    assert fares.std() == pytest.approx(1.0, abs=1e-5)


def test_missing_and_nan_numeric_values_become_the_mean(transformed):
    rows, _ = transformed
    miles = [float(r["trip_miles_xf"]) for r in rows]
    assert miles[2] == 0.0 and miles[3] == 0.0  # absent, NaN
    assert miles[0] == pytest.approx(-1.0) and miles[1] == pytest.approx(1.0)


def test_vocabulary_keeps_top_k_and_sends_the_rest_and_unseen_values_to_oov(transformed):
    rows, new = transformed
    ids = [int(r["payment_type_xf"]) for r in rows]
    assert ids[0] == ids[2] == 0  # 'Credit Card', the most frequent value, is kept
    assert ids[1] == ids[3] == 1  # 'Cash' and 'Dispute' fall outside the top 1: the OOV bucket
    assert int(new[0]["payment_type_xf"]) == 1  # 'Bitcoin' was never seen


def test_a_missing_category_is_a_category_of_its_own(transformed):
    rows, new = transformed
    company = [int(r["company_xf"]) for r in rows]
    unseen = int(new[0]["company_xf"])
    assert company[2] not in (company[0], company[3], unseen)  # not the OOV bucket either


def test_hashed_categories_stay_within_their_buckets(transformed):
    rows, new = transformed
    ids = [int(r["trip_start_hour_xf"]) for r in rows + new]
    assert all(0 <= i < 8 for i in ids)
    assert ids[0] == ids[2]


def test_bucketized_missing_value_gets_its_own_bucket(transformed):
    rows, _ = transformed
    buckets = [int(r["pickup_latitude_xf"]) for r in rows]
    assert buckets[2] == 2  # buckets 0..1 for values, 2 for missing
    assert all(0 <= b < 2 for i, b in enumerate(buckets) if i != 2)


def test_only_model_features_and_the_label_are_output(transformed):
    rows, _ = transformed
    assert set(rows[0]) == {F.transformed_name(f.name) for f in INPUTS.features} | {"big_tipper_xf"}
