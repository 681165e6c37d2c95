# The webhook's HMAC key and the database URL. Values come from ephemeral variables through
# write-only arguments, so they never reach the Terraform state; bump secret_values_version to
# write new values.

resource "google_secret_manager_secret" "webhook" {
  secret_id = "sheetsync-webhook-secret"

  replication {
    auto {}
  }

  depends_on = [google_project_service.required]
}

resource "google_secret_manager_secret_version" "webhook" {
  secret                 = google_secret_manager_secret.webhook.id
  secret_data_wo         = var.webhook_secret
  secret_data_wo_version = var.secret_values_version
}

locals {
  # Private IP through the VPC connector; Cloud SQL only accepts encrypted connections, and the
  # functions verify the server against its CAs (sql.tf), which overrides this sslmode. The
  # scheme selects the engine in the functions (runtime/compose.ts databaseEngine).
  database_url = (local.mysql
    ? "mysql://${urlencode(var.database_user)}:${urlencode(var.database_password)}@${local.database_host}:3306/${urlencode(var.database_name)}"
  : "postgres://${urlencode(var.database_user)}:${urlencode(var.database_password)}@${local.database_host}:5432/${urlencode(var.database_name)}?sslmode=require")
}

resource "google_secret_manager_secret" "database_url" {
  secret_id = "sheetsync-database-url"

  replication {
    auto {}
  }

  depends_on = [google_project_service.required]
}

resource "google_secret_manager_secret_version" "database_url" {
  secret                 = google_secret_manager_secret.database_url.id
  secret_data_wo         = local.database_url
  secret_data_wo_version = var.secret_values_version
}

resource "google_secret_manager_secret_iam_member" "webhook_accessor" {
  secret_id = google_secret_manager_secret.webhook.id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.function["sheet_webhook"].member
}

resource "google_secret_manager_secret_iam_member" "database_url_accessor" {
  for_each  = toset([for key, fn in local.functions : key if fn.database])
  secret_id = google_secret_manager_secret.database_url.id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.function[each.key].member
}
