"""One module per API group; one handler per operation, named after its operationId."""
