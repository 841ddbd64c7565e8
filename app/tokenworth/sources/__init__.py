"""Sources: parse local agent logs and provider replies into plain records. No database, no Qt."""
