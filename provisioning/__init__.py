"""Provisioning: device enrolment, credentials and the broker's users and ACL."""
