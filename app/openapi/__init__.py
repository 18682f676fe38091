"""The API's description: the OpenAPI 3.1 document (`document`, served at /api/openapi.json and
/api/docs) built from the JSON schemas of every body and answer (`schemas`)."""
