terraform {
  # 1.11: write-only arguments (secret_data_wo, password_wo) and ephemeral variables keep the
  # webhook secret and the database password out of the state file.
  required_version = ">= 1.11"

  required_providers {
    google = {
      source = "hashicorp/google"
      # terraform/schema/google-provider.json is extracted from 6.50.0; the offline schema test
      # checks this module against it.
      version = "~> 6.50"
    }
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
}
