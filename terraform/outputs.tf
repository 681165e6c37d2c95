output "webhook_url" {
  description = "URL the Apps Script posts to (Script Property SHEETSYNC_WEBHOOK_URL, set by the menu's Set up)."
  value       = google_cloudfunctions2_function.sheetsync["sheet_webhook"].service_config[0].uri
}

output "topics" {
  description = "Pub/Sub topics: the two change streams and their dead-letter topics."
  value = {
    sheet_changes             = google_pubsub_topic.sheet_changes.name
    db_changes                = google_pubsub_topic.db_changes.name
    sheet_changes_dead_letter = google_pubsub_topic.dead_letter["sheet_changes"].name
    db_changes_dead_letter    = google_pubsub_topic.dead_letter["db_changes"].name
  }
}

output "dead_letter_subscriptions" {
  description = "Pull subscriptions that keep dead-lettered messages for inspection."
  value       = { for key, sub in google_pubsub_subscription.dead_letter : key => sub.name }
}

output "service_accounts" {
  description = "One per function. Share each linked spreadsheet (Editor) with apply_to_sheet and reconcile."
  value       = { for key, account in google_service_account.function : key => account.email }
}

output "sheet_editors" {
  description = "The accounts to share every linked spreadsheet with, as Editor (applyToDb writes the _sheetsync_errors tab)."
  value = [
    google_service_account.function["apply_to_db"].email,
    google_service_account.function["apply_to_sheet"].email,
    google_service_account.function["reconcile"].email,
  ]
}

output "cloudsql_connection_name" {
  description = "Connection name of the instance the functions use (for `gcloud sql connect` and the install scripts)."
  value       = local.connection_name
}

output "firestore_database" {
  description = "Firestore database that holds the row documents."
  value       = google_firestore_database.sheetsync.name
}

output "dashboard" {
  description = "Cloud Monitoring dashboard with sync lag, errors, conflicts and dead letters."
  value       = "https://console.cloud.google.com/monitoring/dashboards/builder/${element(split("/", google_monitoring_dashboard.sheetsync.id), 3)}?project=${var.project_id}"
}
