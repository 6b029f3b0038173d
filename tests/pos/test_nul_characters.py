"""A NUL character (which PostgreSQL can neither store nor compare) anywhere in a request is a
400 problem document, before any endpoint or the database sees it."""


def test_the_api_refuses_a_nul_character_in_the_query_with_a_problem_document(till):
    answer = till.get("/customers/1/history?limit=%00")
    assert answer.status_code == 400
    assert answer["Content-Type"] == "application/problem+json"
    assert answer.json()["code"] == "bad_request"
    assert "NUL" in answer.json()["detail"]
