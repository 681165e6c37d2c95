# One service account per function, each with only what its function's code reaches: the
# table in functions/src/function-needs.ts, which test/unit/function-needs.test.ts checks against
# the code and against these grants (a missing or an unneeded role fails it). Grants are on the
# topic, subscription, secret or bucket wherever IAM allows it; the only project-level roles are
# Firestore (no finer resource exists for it) and what Cloud Build needs to write the function
# images and logs. No function has roles/cloudsql.client: they reach Cloud SQL by private IP with a
# password (sql.tf), which IAM does not check; that role is for the Auth Proxy and connectors.

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
  # Who publishes where: the webhook splits edits into sheet changes; the relay drains the outbox.
  # Nothing else publishes: Pub/Sub's service agent moves what the apply functions give up on to
  # the dead-letter topics (below), and per-cell errors go to the spreadsheet's errors tab.
  publishers = {
    "sheet_webhook/sheet_changes" = { fn = "sheet_webhook", topic = google_pubsub_topic.sheet_changes.id }
    "outbox_relay/db_changes"     = { fn = "outbox_relay", topic = google_pubsub_topic.db_changes.id }
  }
  # The webhook reads and writes Firestore on every request (replay guard, sheet epochs, row
  # documents); the relay alone does not touch it.
  firestore_users = toset(["sheet_webhook", "apply_to_db", "apply_to_sheet", "reconcile"])
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
