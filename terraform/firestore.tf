# The version store (DESIGN.md §2, Row document), in Native mode. `(default)` by default, which
# clients use without configuration and which Firestore's free quota covers; a project that
# already has a (default) database sets firestore_database to a name of its own, and the
# functions read it from SHEETSYNC_FIRESTORE_DATABASE.

resource "google_firestore_database" "sheetsync" {
  name                              = var.firestore_database
  location_id                       = var.region
  type                              = "FIRESTORE_NATIVE"
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"
  delete_protection_state           = "DELETE_PROTECTION_ENABLED"
  deletion_policy                   = "DELETE"
  depends_on                        = [google_project_service.required]
}

# The webhook's replay markers (functions/src/handlers/sheet-webhook/replay-guard.ts): one
# document per event id in sheetsync_webhook_events, whose expireAt is 15 minutes after the claim.
# Firestore's TTL policy deletes each marker after that time (usually within a day of it), so the
# collection stays about one day of events deep.
resource "google_firestore_field" "webhook_event_ttl" {
  project    = var.project_id
  database   = google_firestore_database.sheetsync.name
  collection = "sheetsync_webhook_events"
  field      = "expireAt"

  # No index on expireAt: nothing queries by it, and an index on a timestamp that only grows would
  # concentrate a burst of writes on one index range.
  index_config {}
  ttl_config {}
}
