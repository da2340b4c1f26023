"""The HTTP API: `create_app(settings)` builds it; one router per resource, auth and upload
limits in deps, every error mapped to JSON in errors."""
