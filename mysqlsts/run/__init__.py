"""One run: its environment up once and down once, the deployment as declared, the lock."""
