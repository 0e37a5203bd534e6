"""What every ECP-AI Orchestrator service shares: contracts, subjects, settings, bus and database."""
