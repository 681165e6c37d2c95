# One service account per function, each with only what its function does (README "Service
# accounts"). Grants are on the topic, subscription, secret or bucket wherever IAM allows it;
# the only project-level roles are Firestore (no finer resource exists for it), the Cloud SQL
# client, and what Cloud Build needs to write the function images and logs.

resource "google_service_account" "function" {
  for_each     = local.functions
  account_id   = "ss-${trimprefix(each.value.name, "sheetsync-")}"
  display_name = "sheetsync ${each.value.entry_point}"
  depends_on   = [google_project_service.required]
}

resource "google_service_account" "pubsub_push" {
  account_id   = "ss-pubsub-push"
  display_name = "sheetsync Pub/Sub push deliveries (OIDC identity)"
  depends_on   = [google_project_service.required]
}

resource "google_service_account" "scheduler" {
  account_id   = "ss-scheduler"
  display_name = "sheetsync Cloud Scheduler jobs (OIDC identity)"
  depends_on   = [google_project_service.required]
}

resource "google_service_account" "build" {
  account_id   = "ss-build"
  display_name = "sheetsync function builds (Cloud Build)"
  depends_on   = [google_project_service.required]
}

locals {
  # Who publishes where: the webhook splits edits into sheet changes; applyToDb sends permanent
  # failures to the dead-letter topic itself (per-cell errors go to the spreadsheet's errors tab
  # through the Sheets API, not through Pub/Sub); the relay drains the outbox; applyToSheet
  # dead-letters what it cannot write.
  publishers = {
    "sheet_webhook/sheet_changes"   = { fn = "sheet_webhook", topic = google_pubsub_topic.sheet_changes.id }
    "apply_to_db/sheet_dead_letter" = { fn = "apply_to_db", topic = google_pubsub_topic.dead_letter["sheet_changes"].id }
    "outbox_relay/db_changes"       = { fn = "outbox_relay", topic = google_pubsub_topic.db_changes.id }
    "apply_to_sheet/db_dead_letter" = { fn = "apply_to_sheet", topic = google_pubsub_topic.dead_letter["db_changes"].id }
  }
  firestore_users  = toset(["apply_to_db", "apply_to_sheet", "reconcile"])
  cloudsql_clients = toset([for key, fn in local.functions : key if fn.database])
}

resource "google_pubsub_topic_iam_member" "publisher" {
  for_each = local.publishers
  topic    = each.value.topic
  role     = "roles/pubsub.publisher"
  member   = google_service_account.function[each.value.fn].member
}

resource "google_project_iam_member" "firestore_user" {
  for_each = local.firestore_users
  project  = var.project_id
  role     = "roles/datastore.user"
  member   = google_service_account.function[each.key].member
}

resource "google_project_iam_member" "cloudsql_client" {
  for_each = local.cloudsql_clients
  project  = var.project_id
  role     = "roles/cloudsql.client"
  member   = google_service_account.function[each.key].member
}

# Dead-lettering: Pub/Sub's service agent must publish to the dead-letter topic and acknowledge
# (subscribe) on the source subscription.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  for_each = local.topics
  topic    = google_pubsub_topic.dead_letter[each.key].id
  role     = "roles/pubsub.publisher"
  member   = local.pubsub_service_agent
}

resource "google_pubsub_subscription_iam_member" "dead_letter_source_subscriber" {
  for_each     = local.push_subscriptions
  subscription = google_pubsub_subscription.push[each.key].id
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent
}

# Pub/Sub mints the push subscriptions' OIDC tokens as ss-pubsub-push.
resource "google_service_account_iam_member" "pubsub_push_token_creator" {
  service_account_id = google_service_account.pubsub_push.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_service_agent
}

# Builds: read the source archive, push the image, write build logs.
resource "google_storage_bucket_iam_member" "build_source_reader" {
  bucket = google_storage_bucket.source.name
  role   = "roles/storage.objectViewer"
  member = google_service_account.build.member
}

resource "google_project_iam_member" "build" {
  for_each = toset(["roles/artifactregistry.writer", "roles/logging.logWriter"])
  project  = var.project_id
  role     = each.value
  member   = google_service_account.build.member
}
