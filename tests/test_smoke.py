def test_login_page_is_french_by_default(client):
    response = client.get("/connexion")
    assert response.status_code == 200
    assert "Connexion" in response.get_data(as_text=True)
