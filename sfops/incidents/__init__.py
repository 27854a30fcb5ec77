"""Incidents: the Incident_Log__c lifecycle, notifications, on-call, post-mortems and metrics."""
