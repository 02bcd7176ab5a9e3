def test_cast_exists(broker_a, broker_b):
    assert broker_a.schema_name == "b_alfa"
    assert broker_b.schema_name == "b_beta"
