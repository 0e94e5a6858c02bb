// The plan schema (schemas/search_operations.v1.schema.json) as a module, so the published package
// carries it; operations-schema.test.ts fails when the two copies drift apart.
export const searchOperationsSchema = {
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://schemas.kfm.dev/migrations/search_operations.v1.schema.json",
  "title": "SearchOperations",
  "description": "forward.json / rollback.json of a search migration: Elasticsearch operations run in order. Each `body` is exactly the request body of that Elasticsearch API. In a governed (transactional) apply, index changes go to new indices only and update_aliases is the commit point.",
  "type": "object",
  "additionalProperties": false,
  "required": [
    "operations"
  ],
  "properties": {
    "description": {
      "type": "string"
    },
    "operations": {
      "type": "array",
      "minItems": 1,
      "items": {
        "$ref": "#/$defs/operation"
      }
    }
  },
  "$defs": {
    "index_name": {
      "description": "A concrete index or alias name (no wildcards, lowercase, not starting with -, _ or +).",
      "type": "string",
      "minLength": 1,
      "maxLength": 255,
      "pattern": "^[a-z0-9][a-z0-9._+-]*$"
    },
    "object_name": {
      "description": "A template or pipeline name.",
      "type": "string",
      "minLength": 1,
      "maxLength": 255,
      "pattern": "^[A-Za-z0-9][A-Za-z0-9._@+-]*$"
    },
    "description": {
      "type": "string"
    },
    "operation": {
      "type": "object",
      "required": [
        "op"
      ],
      "properties": {
        "op": {
          "enum": [
            "create_index",
            "put_mapping",
            "put_settings",
            "reindex",
            "update_aliases",
            "put_index_template",
            "delete_index_template",
            "put_component_template",
            "delete_component_template",
            "put_pipeline",
            "delete_pipeline",
            "delete_index"
          ]
        }
      },
      "allOf": [
        {
          "if": {
            "required": [
              "op"
            ],
            "properties": {
              "op": {
                "const": "create_index"
              }
            }
          },
          "then": {
            "$ref": "#/$defs/create_index"
          }
        },
        {
          "if": {
            "required": [
              "op"
            ],
            "properties": {
              "op": {
                "const": "put_mapping"
              }
            }
          },
          "then": {
            "$ref": "#/$defs/put_mapping"
          }
        },
        {
          "if": {
            "required": [
              "op"
            ],
            "properties": {
              "op": {
                "const": "put_settings"
              }
            }
          },
          "then": {
            "$ref": "#/$defs/put_settings"
          }
        },
        {
          "if": {
            "required": [
              "op"
            ],
            "properties": {
              "op": {
                "const": "reindex"
              }
            }
          },
          "then": {
            "$ref": "#/$defs/reindex"
          }
        },
        {
          "if": {
            "required": [
              "op"
            ],
            "properties": {
              "op": {
                "const": "update_aliases"
              }
            }
          },
          "then": {
            "$ref": "#/$defs/update_aliases"
          }
        },
        {
          "if": {
            "required": [
              "op"
            ],
            "properties": {
              "op": {
                "const": "put_index_template"
              }
            }
          },
          "then": {
            "$ref": "#/$defs/put_index_template"
          }
        },
        {
          "if": {
            "required": [
              "op"
            ],
            "properties": {
              "op": {
                "const": "delete_index_template"
              }
            }
          },
          "then": {
            "$ref": "#/$defs/delete_named"
          }
        },
        {
          "if": {
            "required": [
              "op"
            ],
            "properties": {
              "op": {
                "const": "put_component_template"
              }
            }
          },
          "then": {
            "$ref": "#/$defs/put_component_template"
          }
        },
        {
          "if": {
            "required": [
              "op"
            ],
            "properties": {
              "op": {
                "const": "delete_component_template"
              }
            }
          },
          "then": {
            "$ref": "#/$defs/delete_named"
          }
        },
        {
          "if": {
            "required": [
              "op"
            ],
            "properties": {
              "op": {
                "const": "put_pipeline"
              }
            }
          },
          "then": {
            "$ref": "#/$defs/put_pipeline"
          }
        },
        {
          "if": {
            "required": [
              "op"
            ],
            "properties": {
              "op": {
                "const": "delete_pipeline"
              }
            }
          },
          "then": {
            "$ref": "#/$defs/delete_pipeline"
          }
        },
        {
          "if": {
            "required": [
              "op"
            ],
            "properties": {
              "op": {
                "const": "delete_index"
              }
            }
          },
          "then": {
            "$ref": "#/$defs/delete_index"
          }
        }
      ]
    },
    "create_index": {
      "description": "PUT /{index}. Aliases are not allowed here: aliases move only through update_aliases, the commit point.",
      "type": "object",
      "additionalProperties": false,
      "required": [
        "op",
        "index"
      ],
      "properties": {
        "op": {
          "const": "create_index"
        },
        "description": {
          "$ref": "#/$defs/description"
        },
        "index": {
          "$ref": "#/$defs/index_name"
        },
        "body": {
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "settings": {
              "type": "object"
            },
            "mappings": {
              "type": "object"
            }
          }
        }
      }
    },
    "put_mapping": {
      "description": "PUT /{index}/_mapping.",
      "type": "object",
      "additionalProperties": false,
      "required": [
        "op",
        "index",
        "body"
      ],
      "properties": {
        "op": {
          "const": "put_mapping"
        },
        "description": {
          "$ref": "#/$defs/description"
        },
        "index": {
          "$ref": "#/$defs/index_name"
        },
        "body": {
          "type": "object",
          "minProperties": 1
        }
      }
    },
    "put_settings": {
      "description": "PUT /{index}/_settings.",
      "type": "object",
      "additionalProperties": false,
      "required": [
        "op",
        "index",
        "body"
      ],
      "properties": {
        "op": {
          "const": "put_settings"
        },
        "description": {
          "$ref": "#/$defs/description"
        },
        "index": {
          "$ref": "#/$defs/index_name"
        },
        "body": {
          "type": "object",
          "minProperties": 1
        }
      }
    },
    "reindex": {
      "description": "POST /_reindex (run as a task, polled, then verified by document count). Reindex from a remote cluster is not allowed.",
      "type": "object",
      "additionalProperties": false,
      "required": [
        "op",
        "body"
      ],
      "properties": {
        "op": {
          "const": "reindex"
        },
        "description": {
          "$ref": "#/$defs/description"
        },
        "body": {
          "type": "object",
          "additionalProperties": false,
          "required": [
            "source",
            "dest"
          ],
          "properties": {
            "source": {
              "type": "object",
              "additionalProperties": false,
              "required": [
                "index"
              ],
              "properties": {
                "index": {
                  "$ref": "#/$defs/index_name"
                },
                "query": {
                  "type": "object"
                },
                "_source": {
                  "type": [
                    "boolean",
                    "string",
                    "array",
                    "object"
                  ]
                },
                "size": {
                  "type": "integer",
                  "minimum": 1
                }
              }
            },
            "dest": {
              "type": "object",
              "additionalProperties": false,
              "required": [
                "index"
              ],
              "properties": {
                "index": {
                  "$ref": "#/$defs/index_name"
                },
                "op_type": {
                  "enum": [
                    "index",
                    "create"
                  ]
                },
                "pipeline": {
                  "$ref": "#/$defs/object_name"
                },
                "version_type": {
                  "enum": [
                    "internal",
                    "external",
                    "external_gt",
                    "external_gte"
                  ]
                }
              }
            },
            "script": {
              "type": "object",
              "additionalProperties": false,
              "required": [
                "source"
              ],
              "properties": {
                "source": {
                  "type": "string"
                },
                "lang": {
                  "type": "string"
                },
                "params": {
                  "type": "object"
                }
              }
            },
            "conflicts": {
              "enum": [
                "abort",
                "proceed"
              ]
            },
            "max_docs": {
              "type": "integer",
              "minimum": 1
            }
          }
        }
      }
    },
    "update_aliases": {
      "description": "POST /_aliases: all actions in one atomic call. In a governed apply this is the commit point and runs last.",
      "type": "object",
      "additionalProperties": false,
      "required": [
        "op",
        "body"
      ],
      "properties": {
        "op": {
          "const": "update_aliases"
        },
        "description": {
          "$ref": "#/$defs/description"
        },
        "body": {
          "type": "object",
          "additionalProperties": false,
          "required": [
            "actions"
          ],
          "properties": {
            "actions": {
              "type": "array",
              "minItems": 1,
              "items": {
                "type": "object",
                "minProperties": 1,
                "maxProperties": 1,
                "additionalProperties": false,
                "properties": {
                  "add": {
                    "$ref": "#/$defs/alias_add"
                  },
                  "remove": {
                    "$ref": "#/$defs/alias_remove"
                  }
                }
              }
            }
          }
        }
      }
    },
    "alias_add": {
      "type": "object",
      "additionalProperties": false,
      "required": [
        "index",
        "alias"
      ],
      "properties": {
        "index": {
          "$ref": "#/$defs/index_name"
        },
        "alias": {
          "$ref": "#/$defs/index_name"
        },
        "filter": {
          "type": "object"
        },
        "routing": {
          "type": "string"
        },
        "index_routing": {
          "type": "string"
        },
        "search_routing": {
          "type": "string"
        },
        "is_write_index": {
          "type": "boolean"
        },
        "is_hidden": {
          "type": "boolean"
        }
      }
    },
    "alias_remove": {
      "type": "object",
      "additionalProperties": false,
      "required": [
        "index",
        "alias"
      ],
      "properties": {
        "index": {
          "$ref": "#/$defs/index_name"
        },
        "alias": {
          "$ref": "#/$defs/index_name"
        }
      }
    },
    "put_index_template": {
      "description": "PUT /_index_template/{name} (composable template).",
      "type": "object",
      "additionalProperties": false,
      "required": [
        "op",
        "name",
        "body"
      ],
      "properties": {
        "op": {
          "const": "put_index_template"
        },
        "description": {
          "$ref": "#/$defs/description"
        },
        "name": {
          "$ref": "#/$defs/object_name"
        },
        "body": {
          "type": "object",
          "required": [
            "index_patterns"
          ]
        }
      }
    },
    "put_component_template": {
      "description": "PUT /_component_template/{name}.",
      "type": "object",
      "additionalProperties": false,
      "required": [
        "op",
        "name",
        "body"
      ],
      "properties": {
        "op": {
          "const": "put_component_template"
        },
        "description": {
          "$ref": "#/$defs/description"
        },
        "name": {
          "$ref": "#/$defs/object_name"
        },
        "body": {
          "type": "object",
          "required": [
            "template"
          ]
        }
      }
    },
    "delete_named": {
      "description": "DELETE /_index_template/{name} or /_component_template/{name}.",
      "type": "object",
      "additionalProperties": false,
      "required": [
        "op",
        "name"
      ],
      "properties": {
        "op": {
          "enum": [
            "delete_index_template",
            "delete_component_template"
          ]
        },
        "description": {
          "$ref": "#/$defs/description"
        },
        "name": {
          "$ref": "#/$defs/object_name"
        }
      }
    },
    "put_pipeline": {
      "description": "PUT /_ingest/pipeline/{id}.",
      "type": "object",
      "additionalProperties": false,
      "required": [
        "op",
        "id",
        "body"
      ],
      "properties": {
        "op": {
          "const": "put_pipeline"
        },
        "description": {
          "$ref": "#/$defs/description"
        },
        "id": {
          "$ref": "#/$defs/object_name"
        },
        "body": {
          "type": "object",
          "required": [
            "processors"
          ]
        }
      }
    },
    "delete_pipeline": {
      "description": "DELETE /_ingest/pipeline/{id}.",
      "type": "object",
      "additionalProperties": false,
      "required": [
        "op",
        "id"
      ],
      "properties": {
        "op": {
          "const": "delete_pipeline"
        },
        "description": {
          "$ref": "#/$defs/description"
        },
        "id": {
          "$ref": "#/$defs/object_name"
        }
      }
    },
    "delete_index": {
      "description": "DELETE /{index}: only for an index the declaration allows and that no alias points to when it runs.",
      "type": "object",
      "additionalProperties": false,
      "required": [
        "op",
        "index"
      ],
      "properties": {
        "op": {
          "const": "delete_index"
        },
        "description": {
          "$ref": "#/$defs/description"
        },
        "index": {
          "$ref": "#/$defs/index_name"
        }
      }
    }
  }
} as const;
