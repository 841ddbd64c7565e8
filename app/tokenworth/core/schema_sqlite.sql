CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL, 
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

-- Running upgrade  -> 0001_ledger

CREATE TABLE usage_records (
    id INTEGER NOT NULL, 
    dedupe_key VARCHAR(255) NOT NULL, 
    source VARCHAR(32) NOT NULL, 
    provider VARCHAR(32) NOT NULL, 
    account VARCHAR(128), 
    model VARCHAR(128) NOT NULL, 
    ts BIGINT NOT NULL, 
    bucket_seconds INTEGER DEFAULT '0' NOT NULL, 
    input_tokens BIGINT DEFAULT '0' NOT NULL, 
    output_tokens BIGINT DEFAULT '0' NOT NULL, 
    cache_read_tokens BIGINT DEFAULT '0' NOT NULL, 
    cache_write_5m_tokens BIGINT DEFAULT '0' NOT NULL, 
    cache_write_1h_tokens BIGINT DEFAULT '0' NOT NULL, 
    reasoning_tokens BIGINT DEFAULT '0' NOT NULL, 
    request_count INTEGER DEFAULT '1' NOT NULL, 
    cost BIGINT, 
    cost_provenance VARCHAR(16) NOT NULL, 
    estimated_cost BIGINT, 
    price_version VARCHAR(64), 
    speed VARCHAR(16), 
    project VARCHAR(512), 
    session_id VARCHAR(128), 
    git_branch VARCHAR(256), 
    message_id VARCHAR(128), 
    request_id VARCHAR(128), 
    is_sidechain BOOLEAN DEFAULT 0 NOT NULL, 
    imported_at BIGINT NOT NULL, 
    PRIMARY KEY (id), 
    CONSTRAINT uq_usage_records_dedupe_key UNIQUE (dedupe_key)
);

CREATE INDEX ix_usage_records_ts ON usage_records (ts);

CREATE INDEX ix_usage_records_source_ts ON usage_records (source, ts);

CREATE INDEX ix_usage_records_message_id ON usage_records (message_id);

CREATE INDEX ix_usage_records_session ON usage_records (session_id);

CREATE TABLE imported_files (
    id INTEGER NOT NULL, 
    source VARCHAR(32) NOT NULL, 
    path VARCHAR(2048) NOT NULL, 
    device BIGINT DEFAULT '0' NOT NULL, 
    inode BIGINT DEFAULT '0' NOT NULL, 
    size BIGINT DEFAULT '0' NOT NULL, 
    mtime_ns BIGINT DEFAULT '0' NOT NULL, 
    "offset" BIGINT DEFAULT '0' NOT NULL, 
    head_hash VARCHAR(64), 
    parser_state TEXT, 
    broken_lines INTEGER DEFAULT '0' NOT NULL, 
    records INTEGER DEFAULT '0' NOT NULL, 
    last_read_at BIGINT NOT NULL, 
    PRIMARY KEY (id), 
    CONSTRAINT uq_imported_files_source_path UNIQUE (source, path)
);

CREATE TABLE price_overrides (
    id INTEGER NOT NULL, 
    provider VARCHAR(32) NOT NULL, 
    model VARCHAR(128) NOT NULL, 
    input_mtok VARCHAR(32) NOT NULL, 
    output_mtok VARCHAR(32) NOT NULL, 
    cache_read_mtok VARCHAR(32), 
    cache_write_5m_mtok VARCHAR(32), 
    cache_write_1h_mtok VARCHAR(32), 
    updated_at BIGINT NOT NULL, 
    PRIMARY KEY (id), 
    CONSTRAINT uq_price_overrides_provider_model UNIQUE (provider, model)
);

CREATE TABLE meta (
    "key" VARCHAR(128) NOT NULL, 
    value TEXT NOT NULL, 
    PRIMARY KEY ("key")
);

INSERT INTO alembic_version (version_num) VALUES ('0001_ledger') RETURNING version_num;

-- Running upgrade 0001_ledger -> 0002_providers

ALTER TABLE usage_records ADD COLUMN web_search_requests INTEGER DEFAULT '0' NOT NULL;

CREATE TABLE provider_accounts (
    id INTEGER NOT NULL, 
    provider VARCHAR(32) NOT NULL, 
    label VARCHAR(64) NOT NULL, 
    key_last4 VARCHAR(4) NOT NULL, 
    created_at BIGINT NOT NULL, 
    last_poll_at BIGINT, 
    last_status VARCHAR(32), 
    last_error TEXT, 
    details TEXT, 
    PRIMARY KEY (id), 
    CONSTRAINT uq_provider_accounts_provider_label UNIQUE (provider, label)
);

CREATE TABLE poll_progress (
    id INTEGER NOT NULL, 
    account_id INTEGER NOT NULL, 
    endpoint VARCHAR(64) NOT NULL, 
    next_start BIGINT NOT NULL, 
    updated_at BIGINT NOT NULL, 
    PRIMARY KEY (id), 
    CONSTRAINT uq_poll_progress_account_endpoint UNIQUE (account_id, endpoint), 
    FOREIGN KEY(account_id) REFERENCES provider_accounts (id) ON DELETE CASCADE
);

CREATE TABLE billed_costs (
    id INTEGER NOT NULL, 
    dedupe_key VARCHAR(255) NOT NULL, 
    source VARCHAR(32) NOT NULL, 
    provider VARCHAR(32) NOT NULL, 
    account VARCHAR(128) NOT NULL, 
    ts BIGINT NOT NULL, 
    bucket_seconds INTEGER NOT NULL, 
    model VARCHAR(128), 
    line_item VARCHAR(256), 
    cost_type VARCHAR(32), 
    token_type VARCHAR(64), 
    service_tier VARCHAR(32), 
    context_window VARCHAR(32), 
    project VARCHAR(512), 
    amount BIGINT NOT NULL, 
    currency VARCHAR(8) NOT NULL, 
    quantity VARCHAR(40), 
    quantity_unit VARCHAR(32), 
    polled_at BIGINT NOT NULL, 
    PRIMARY KEY (id), 
    CONSTRAINT uq_billed_costs_dedupe_key UNIQUE (dedupe_key)
);

CREATE INDEX ix_billed_costs_ts ON billed_costs (ts);

UPDATE alembic_version SET version_num='0002_providers' WHERE alembic_version.version_num = '0001_ledger';

-- Running upgrade 0002_providers -> 0003_tasks

CREATE TABLE tasks (
    id INTEGER NOT NULL, 
    title VARCHAR(200) NOT NULL, 
    category VARCHAR(64), 
    value BIGINT, 
    started_at BIGINT NOT NULL, 
    ended_at BIGINT, 
    active BOOLEAN DEFAULT 0 NOT NULL, 
    notes TEXT, 
    link_url VARCHAR(2048), 
    git_branch VARCHAR(256), 
    created_at BIGINT NOT NULL, 
    updated_at BIGINT NOT NULL, 
    PRIMARY KEY (id)
);

CREATE INDEX ix_tasks_started_at ON tasks (started_at);

CREATE INDEX ix_tasks_category ON tasks (category);

CREATE TABLE task_sessions (
    id INTEGER NOT NULL, 
    task_id INTEGER NOT NULL, 
    session_id VARCHAR(128) NOT NULL, 
    assigned_at BIGINT NOT NULL, 
    PRIMARY KEY (id), 
    CONSTRAINT uq_task_sessions_session_id UNIQUE (session_id), 
    FOREIGN KEY(task_id) REFERENCES tasks (id) ON DELETE CASCADE
);

CREATE INDEX ix_task_sessions_task ON task_sessions (task_id);

CREATE TABLE task_branches (
    id INTEGER NOT NULL, 
    task_id INTEGER NOT NULL, 
    project VARCHAR(512) NOT NULL, 
    git_branch VARCHAR(256) DEFAULT '' NOT NULL, 
    assigned_at BIGINT NOT NULL, 
    PRIMARY KEY (id), 
    CONSTRAINT uq_task_branches_project_branch UNIQUE (project, git_branch), 
    FOREIGN KEY(task_id) REFERENCES tasks (id) ON DELETE CASCADE
);

CREATE INDEX ix_task_branches_task ON task_branches (task_id);

CREATE TABLE task_attributions (
    record_id INTEGER NOT NULL, 
    task_id INTEGER NOT NULL, 
    share_num BIGINT NOT NULL, 
    share_den BIGINT NOT NULL, 
    PRIMARY KEY (record_id, task_id), 
    FOREIGN KEY(record_id) REFERENCES usage_records (id) ON DELETE CASCADE, 
    FOREIGN KEY(task_id) REFERENCES tasks (id) ON DELETE CASCADE
);

CREATE INDEX ix_task_attributions_task ON task_attributions (task_id);

CREATE TABLE plans (
    id INTEGER NOT NULL, 
    name VARCHAR(128) NOT NULL, 
    monthly_fee BIGINT NOT NULL, 
    covers VARCHAR(512) NOT NULL, 
    first_month VARCHAR(7), 
    last_month VARCHAR(7), 
    created_at BIGINT NOT NULL, 
    updated_at BIGINT NOT NULL, 
    PRIMARY KEY (id), 
    CONSTRAINT uq_plans_name UNIQUE (name)
);

CREATE INDEX ix_usage_records_imported_at ON usage_records (imported_at);

UPDATE alembic_version SET version_num='0003_tasks' WHERE alembic_version.version_num = '0002_providers';

-- Running upgrade 0003_tasks -> 0004_routing

CREATE TABLE routing_experiments (
    id INTEGER NOT NULL, 
    suggestion_id VARCHAR(16) NOT NULL, 
    month VARCHAR(7) NOT NULL, 
    category VARCHAR(64), 
    from_provider VARCHAR(32) NOT NULL, 
    from_model VARCHAR(128) NOT NULL, 
    to_provider VARCHAR(32) NOT NULL, 
    to_model VARCHAR(128) NOT NULL, 
    evidence VARCHAR(16) NOT NULL, 
    task_count INTEGER NOT NULL, 
    baseline_tasks INTEGER DEFAULT '0' NOT NULL, 
    baseline_value_per_task BIGINT, 
    baseline_cost_per_task BIGINT, 
    baseline_tfp VARCHAR(32), 
    expected_savings BIGINT, 
    status VARCHAR(16) NOT NULL, 
    accepted_at BIGINT NOT NULL, 
    ended_at BIGINT, 
    task_ids TEXT, 
    PRIMARY KEY (id)
);

CREATE INDEX ix_routing_experiments_status ON routing_experiments (status);

UPDATE alembic_version SET version_num='0004_routing' WHERE alembic_version.version_num = '0003_tasks';

-- Running upgrade 0004_routing -> 0005_rollup

CREATE TABLE usage_rollup (
    slot_ms BIGINT NOT NULL, 
    source VARCHAR(32) NOT NULL, 
    provider VARCHAR(32) NOT NULL, 
    model VARCHAR(128) NOT NULL, 
    project VARCHAR(512) DEFAULT '' NOT NULL, 
    input_tokens BIGINT DEFAULT '0' NOT NULL, 
    output_tokens BIGINT DEFAULT '0' NOT NULL, 
    cache_read_tokens BIGINT DEFAULT '0' NOT NULL, 
    cache_write_tokens BIGINT DEFAULT '0' NOT NULL, 
    reasoning_tokens BIGINT DEFAULT '0' NOT NULL, 
    requests BIGINT DEFAULT '0' NOT NULL, 
    records BIGINT DEFAULT '0' NOT NULL, 
    cost BIGINT DEFAULT '0' NOT NULL, 
    unpriced BIGINT DEFAULT '0' NOT NULL, 
    CONSTRAINT pk_usage_rollup PRIMARY KEY (slot_ms, source, provider, model, project)
);

INSERT INTO usage_rollup (slot_ms, source, provider, model, project, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, requests, records, cost, unpriced) SELECT ts - ts % 900000, source, provider, model, COALESCE(project, ''), SUM(input_tokens), SUM(output_tokens), SUM(cache_read_tokens), SUM(cache_write_5m_tokens + cache_write_1h_tokens), SUM(reasoning_tokens), SUM(request_count), COUNT(*), COALESCE(SUM(cost), 0), SUM(CASE WHEN cost IS NULL THEN 1 ELSE 0 END) FROM usage_records GROUP BY ts - ts % 900000, source, provider, model, COALESCE(project, '');

CREATE TRIGGER usage_rollup_insert AFTER INSERT ON usage_records BEGIN INSERT INTO usage_rollup (slot_ms, source, provider, model, project, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, requests, records, cost, unpriced) VALUES (NEW.ts - NEW.ts % 900000, NEW.source, NEW.provider, NEW.model, COALESCE(NEW.project, ''), NEW.input_tokens, NEW.output_tokens, NEW.cache_read_tokens, NEW.cache_write_5m_tokens + NEW.cache_write_1h_tokens, NEW.reasoning_tokens, NEW.request_count, 1, COALESCE(NEW.cost, 0), CASE WHEN NEW.cost IS NULL THEN 1 ELSE 0 END) ON CONFLICT (slot_ms, source, provider, model, project) DO UPDATE SET input_tokens = input_tokens + excluded.input_tokens, output_tokens = output_tokens + excluded.output_tokens, cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens, cache_write_tokens = cache_write_tokens + excluded.cache_write_tokens, reasoning_tokens = reasoning_tokens + excluded.reasoning_tokens, requests = requests + excluded.requests, records = records + excluded.records, cost = cost + excluded.cost, unpriced = unpriced + excluded.unpriced; END;

CREATE TRIGGER usage_rollup_delete AFTER DELETE ON usage_records BEGIN UPDATE usage_rollup SET input_tokens = input_tokens - (OLD.input_tokens), output_tokens = output_tokens - (OLD.output_tokens), cache_read_tokens = cache_read_tokens - (OLD.cache_read_tokens), cache_write_tokens = cache_write_tokens - (OLD.cache_write_5m_tokens + OLD.cache_write_1h_tokens), reasoning_tokens = reasoning_tokens - (OLD.reasoning_tokens), requests = requests - (OLD.request_count), records = records - 1, cost = cost - COALESCE(OLD.cost, 0), unpriced = unpriced - CASE WHEN OLD.cost IS NULL THEN 1 ELSE 0 END WHERE slot_ms = OLD.ts - OLD.ts % 900000 AND source = OLD.source AND provider = OLD.provider AND model = OLD.model AND project = COALESCE(OLD.project, ''); DELETE FROM usage_rollup WHERE slot_ms = OLD.ts - OLD.ts % 900000 AND source = OLD.source AND provider = OLD.provider AND model = OLD.model AND project = COALESCE(OLD.project, '') AND records = 0; END;

CREATE TRIGGER usage_rollup_update AFTER UPDATE OF ts, source, provider, model, project, input_tokens, output_tokens, cache_read_tokens, cache_write_5m_tokens, cache_write_1h_tokens, reasoning_tokens, request_count, cost ON usage_records BEGIN UPDATE usage_rollup SET input_tokens = input_tokens - (OLD.input_tokens), output_tokens = output_tokens - (OLD.output_tokens), cache_read_tokens = cache_read_tokens - (OLD.cache_read_tokens), cache_write_tokens = cache_write_tokens - (OLD.cache_write_5m_tokens + OLD.cache_write_1h_tokens), reasoning_tokens = reasoning_tokens - (OLD.reasoning_tokens), requests = requests - (OLD.request_count), records = records - 1, cost = cost - COALESCE(OLD.cost, 0), unpriced = unpriced - CASE WHEN OLD.cost IS NULL THEN 1 ELSE 0 END WHERE slot_ms = OLD.ts - OLD.ts % 900000 AND source = OLD.source AND provider = OLD.provider AND model = OLD.model AND project = COALESCE(OLD.project, ''); DELETE FROM usage_rollup WHERE slot_ms = OLD.ts - OLD.ts % 900000 AND source = OLD.source AND provider = OLD.provider AND model = OLD.model AND project = COALESCE(OLD.project, '') AND records = 0; INSERT INTO usage_rollup (slot_ms, source, provider, model, project, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, requests, records, cost, unpriced) VALUES (NEW.ts - NEW.ts % 900000, NEW.source, NEW.provider, NEW.model, COALESCE(NEW.project, ''), NEW.input_tokens, NEW.output_tokens, NEW.cache_read_tokens, NEW.cache_write_5m_tokens + NEW.cache_write_1h_tokens, NEW.reasoning_tokens, NEW.request_count, 1, COALESCE(NEW.cost, 0), CASE WHEN NEW.cost IS NULL THEN 1 ELSE 0 END) ON CONFLICT (slot_ms, source, provider, model, project) DO UPDATE SET input_tokens = input_tokens + excluded.input_tokens, output_tokens = output_tokens + excluded.output_tokens, cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens, cache_write_tokens = cache_write_tokens + excluded.cache_write_tokens, reasoning_tokens = reasoning_tokens + excluded.reasoning_tokens, requests = requests + excluded.requests, records = records + excluded.records, cost = cost + excluded.cost, unpriced = unpriced + excluded.unpriced; END;

UPDATE alembic_version SET version_num='0005_rollup' WHERE alembic_version.version_num = '0004_routing';

