"""idbellen: identity-verified calling for municipal contact centres (Amazon Connect + Yivi)."""
