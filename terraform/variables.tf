variable "project_id" {
  description = "Google Cloud project that hosts sheetsync."
  type        = string
}

variable "region" {
  description = "Region for the functions, the VPC connector, Cloud SQL, Cloud Scheduler and Firestore."
  type        = string
  default     = "europe-west1"
}

variable "links_json" {
  description = "The links config ({\"links\": [...]}, DESIGN.md §2 Link) as JSON, e.g. file(\"sheetsync.json\"); every function reads it from SHEETSYNC_LINKS."
  type        = string

  validation {
    condition     = can(jsondecode(var.links_json).links[0].name)
    error_message = "links_json must be the links config as JSON: {\"links\": [{\"name\": ..., \"spreadsheetId\": ..., \"sheet\": ..., \"table\": ...}]}."
  }
}

variable "function_archive" {
  description = "Path of the zip that `npm run package` builds."
  type        = string
  default     = "../dist/functions.zip"
}

variable "network" {
  description = "VPC network that the VPC connector joins and that reaches Cloud SQL by private IP."
  type        = string
  default     = "default"
}

variable "vpc_connector_cidr" {
  description = "Unused /28 range in the network for the Serverless VPC Access connector."
  type        = string
  default     = "10.8.0.0/28"
}

variable "database_engine" {
  description = "The synced database: \"postgres\" (Cloud SQL for PostgreSQL) or \"mysql\" (Cloud SQL for MySQL, trigger capture; docs/design/mysql.md)."
  type        = string
  default     = "postgres"
  validation {
    condition     = contains(["postgres", "mysql"], var.database_engine)
    error_message = "database_engine must be \"postgres\" or \"mysql\"."
  }
}

variable "cloudsql_create" {
  description = "true: create a Cloud SQL for PostgreSQL instance; false: use cloudsql_connection_name."
  type        = bool
  default     = true
}

variable "cloudsql_connection_name" {
  description = "Existing instance as PROJECT:REGION:INSTANCE (when cloudsql_create is false). It must have a private IP in var.network."
  type        = string
  default     = ""

  validation {
    condition     = var.cloudsql_connection_name == "" || length(split(":", var.cloudsql_connection_name)) == 3
    error_message = "cloudsql_connection_name must look like PROJECT:REGION:INSTANCE."
  }
}

variable "cloudsql_create_private_services_access" {
  description = "Reserve a range and peer var.network with Google services (needed once per network for private IP Cloud SQL)."
  type        = bool
  default     = true
}

variable "cloudsql_instance_name" {
  description = "Name of the instance to create."
  type        = string
  default     = "sheetsync"
}

variable "cloudsql_tier" {
  description = "Machine tier of the created instance (db-f1-micro is the cheapest shared-core tier)."
  type        = string
  default     = "db-f1-micro"
}

variable "cloudsql_disk_size_gb" {
  description = "Disk of the created instance, in GB (grows automatically)."
  type        = number
  default     = 10
}

variable "database_name" {
  description = "Database that holds the synced tables and the sheetsync schema."
  type        = string
  default     = "sheetsync"
}

variable "database_user" {
  description = "PostgreSQL user the functions connect as."
  type        = string
  default     = "sheetsync"
}

variable "database_password" {
  description = "Password of database_user. Ephemeral: written to Secret Manager and Cloud SQL, never to the state."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "webhook_secret" {
  description = "HMAC key shared with the Apps Script (at least 32 random bytes, e.g. `openssl rand -hex 32`). Ephemeral."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "secret_values_version" {
  description = "Bump to write new values of webhook_secret and database_password (write-only arguments are only sent when this changes)."
  type        = number
  default     = 1
}

variable "firestore_database" {
  description = "Firestore database to create for the row documents: (default), or a name when the project already has a (default) database."
  type        = string
  default     = "(default)"
}

variable "reconcile_schedule" {
  description = "Cron schedule (in time_zone) of the full compare."
  type        = string
  default     = "*/30 * * * *"
}

variable "relay_drain_seconds" {
  description = "How long one outboxRelay invocation drains before it returns. Cloud Scheduler starts one every minute, so the part above 60 s is the hand-over overlap."
  type        = number
  default     = 75

  validation {
    condition     = var.relay_drain_seconds > 60 && var.relay_drain_seconds <= 1800
    error_message = "relay_drain_seconds must exceed the 60 s between starts (or the relay would pause) and stay within Cloud Scheduler's 30 minutes."
  }
}

variable "relay_linger_ms" {
  description = "While database changes keep coming, the relay starts a batch at most this often, so each Pub/Sub message (one in flight per key bucket) carries more changes. 0 sends each batch at once."
  type        = number
  default     = 1000

  validation {
    condition     = var.relay_linger_ms >= 0 && var.relay_linger_ms <= 5000
    error_message = "relay_linger_ms must be between 0 and 5000: above a few seconds the sheet lags behind a busy table."
  }
}

variable "time_zone" {
  description = "Time zone of the Cloud Scheduler jobs."
  type        = string
  default     = "Etc/UTC"
}

variable "max_instances" {
  description = "Instance cap of the webhook (bounds cost under a burst of edits)."
  type        = number
  default     = 10
}

variable "apply_to_db_max_instances" {
  description = "Instance cap of applyToDb. Each instance holds a connection pool: keep instances × pool size + 3 (relay, reconcile) under the tier's max_connections (db-f1-micro: 25)."
  type        = number
  default     = 3
}

variable "apply_to_sheet_memory" {
  description = "Memory of applyToSheet, which keeps each synced tab's row positions (and, up to 1M cells, its values): 512Mi holds tabs up to about 4 million cells (reading one peaked at 430 MB); a tab near the 10-million-cell cap needs 2Gi (0.96 GB: docs/design/large-tabs.md)."
  type        = string
  default     = "512Mi"
}

variable "reconcile_memory" {
  description = "Memory of the scheduled reconcile, which reads whole tabs: 1Gi holds about 8 million cells (a 300,000-row x 7-column link peaked at 381 MB, about 96 MB per million cells more); a tab near the 10-million-cell cap needs 2Gi."
  type        = string
  default     = "1Gi"
}

variable "log_level" {
  description = "SHEETSYNC_LOG_LEVEL of the functions (DEBUG, INFO, WARNING, ERROR)."
  type        = string
  default     = "INFO"
}

variable "alert_email" {
  description = "Where alerts are e-mailed; empty = alerts only show in the console."
  type        = string
  default     = ""
}

variable "alert_sync_lag_ms" {
  description = "Alert when the 95th percentile of sync lag stays above this for 10 minutes."
  type        = number
  default     = 30000
}
