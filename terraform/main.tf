# sheetsync on Google Cloud: see README.md for the flow and the deploy steps, docs/design/ and
# terraform/README.md for the choices.

data "google_project" "this" {
  project_id = var.project_id
}

data "google_compute_network" "vpc" {
  name    = var.network
  project = var.project_id
}

locals {
  topics = {
    sheet_changes = "sheetsync-sheet-changes"
    db_changes    = "sheetsync-db-changes"
  }

  # Pub/Sub's service agent forwards undeliverable messages to the dead-letter topics and signs the
  # OIDC tokens of push deliveries.
  pubsub_service_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"

  # The five entry points that functions/src/index.ts registers with functions-framework.
  # Cloud Run service names must be lower case, so deployed names are kebab-case.
  #   concurrency > 1 lets one instance coalesce concurrent deliveries (group commit, one Sheets
  #   flush); applyToSheet runs on one instance so its token bucket sees the whole Sheets budget.
  functions = {
    sheet_webhook = {
      name     = "sheetsync-sheet-webhook", entry_point = "sheetWebhook", memory = "256Mi", cpu = null
      timeout  = 60, concurrency = 1, min_instances = 0, max_instances = var.max_instances
      database = false, secrets = { SHEETSYNC_WEBHOOK_SECRET = google_secret_manager_secret.webhook.secret_id }
    }
    apply_to_db = {
      name     = "sheetsync-apply-to-db", entry_point = "applyToDb", memory = "512Mi", cpu = "1"
      timeout  = 120, concurrency = 40, min_instances = 0, max_instances = var.apply_to_db_max_instances
      database = true, secrets = { DATABASE_URL = google_secret_manager_secret.database_url.secret_id }
    }
    apply_to_sheet = {
      name     = "sheetsync-apply-to-sheet", entry_point = "applyToSheet", memory = var.apply_to_sheet_memory, cpu = "1"
      timeout  = 120, concurrency = 80, min_instances = 0, max_instances = 1
      database = false, secrets = {}
    }
    outbox_relay = {
      name     = "sheetsync-outbox-relay", entry_point = "outboxRelay", memory = "256Mi", cpu = null
      timeout  = var.relay_drain_seconds + 60, concurrency = 1, min_instances = 0, max_instances = 3
      database = true, secrets = { DATABASE_URL = google_secret_manager_secret.database_url.secret_id }
    }
    reconcile = {
      name     = "sheetsync-reconcile", entry_point = "reconcile", memory = var.reconcile_memory, cpu = "1"
      timeout  = 1800, concurrency = 1, min_instances = 0, max_instances = 1
      database = true, secrets = { DATABASE_URL = google_secret_manager_secret.database_url.secret_id }
    }
  }

  # Configuration every function reads (README "Function environment").
  function_env = {
    SHEETSYNC_LINKS              = var.links_json
    SHEETSYNC_SHEET_TOPIC        = google_pubsub_topic.sheet_changes.name
    SHEETSYNC_DB_TOPIC           = google_pubsub_topic.db_changes.name
    SHEETSYNC_FIRESTORE_DATABASE = google_firestore_database.sheetsync.name
    SHEETSYNC_LOG_LEVEL          = var.log_level
    SHEETSYNC_RELAY_DRAIN_MS     = tostring(var.relay_drain_seconds * 1000)
    SHEETSYNC_RELAY_LINGER_MS    = tostring(var.relay_linger_ms)
    GOOGLE_CLOUD_PROJECT         = var.project_id
    # The Cloud SQL server the database functions verify (sql.tf); public certificates, not secrets.
    SHEETSYNC_DATABASE_CA       = local.database_ca
    SHEETSYNC_DATABASE_INSTANCE = local.connection_name
    # Stack traces in Cloud Logging point into functions/src, through the bundle's source map.
    NODE_OPTIONS = "--enable-source-maps"
  }
}
