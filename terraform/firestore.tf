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
