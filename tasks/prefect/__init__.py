"""What talks to the Prefect server: the temporary local server of one command."""
