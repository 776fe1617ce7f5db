def test_five_platforms_exist(platforms):
    assert sorted(platforms) == ["coop", "dhup", "epl", "esh", "oph"]
