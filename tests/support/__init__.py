"""What the suite shares: documents, event helpers, the client, databases, servers."""
