"""API usage (DailyApiRequests) and the /limits body, shaped like wire/limits.json."""

from __future__ import annotations

import threading
from typing import Any

# name -> Max, the entries of a Developer Edition org (subset of wire/limits.json plus newer ones)
LIMIT_MAXIMA: dict[str, int] = {
    "AnalyticsExternalDataSizeMB": 40960,
    "ConcurrentAsyncGetReportInstances": 200,
    "ConcurrentSyncReportRuns": 20,
    "DailyAnalyticsDataflowJobExecutions": 60,
    "DailyApiRequests": 15000,
    "DailyAsyncApexExecutions": 250000,
    "DailyAsyncApexTests": 500,
    "DailyBulkApiBatches": 15000,
    "DailyBulkV2QueryFileStorageMB": 976562,
    "DailyBulkV2QueryJobs": 10000,
    "DailyDurableGenericStreamingApiEvents": 10000,
    "DailyDurableStreamingApiEvents": 10000,
    "DailyFunctionsApiCallLimit": 235000,
    "DailyGenericStreamingApiEvents": 10000,
    "DailyStandardVolumePlatformEvents": 10000,
    "DailyStreamingApiEvents": 10000,
    "DailyWorkflowEmails": 390,
    "DataStorageMB": 5,
    "DurableStreamingApiConcurrentClients": 20,
    "FileStorageMB": 20,
    "HourlyAsyncReportRuns": 1200,
    "HourlyDashboardRefreshes": 200,
    "HourlyDashboardResults": 5000,
    "HourlyDashboardStatuses": 999999999,
    "HourlyLongTermIdMapping": 100000,
    "HourlyManagedContentPublicRequests": 50000,
    "HourlyODataCallout": 10000,
    "HourlyPublishedPlatformEvents": 50000,
    "HourlyPublishedStandardVolumePlatformEvents": 100000,
    "HourlyShortTermIdMapping": 100000,
    "HourlySyncReportRuns": 500,
    "HourlyTimeBasedWorkflow": 50,
    "MassEmail": 10,
    "MonthlyEinsteinDiscoveryStoryCreation": 500,
    "MonthlyPlatformEventsUsageEntitlement": 50000,
    "Package2VersionCreates": 6,
    "Package2VersionCreatesWithoutValidation": 500,
    "PermissionSetsAssigned": 1500,
    "PrivateConnectOutboundCalloutHourlyLimitMB": 0,
    "SingleEmail": 15,
    "StreamingApiConcurrentClients": 20,
}
APP_NAME = "sfops"


class ApiCounter:
    """The DailyApiRequests counter behind `Sforce-Limit-Info` and /limits."""

    def __init__(self, used: int = 0, maximum: int = 15000) -> None:
        self.used = used
        self.max = maximum
        self._lock = threading.Lock()

    def exhausted(self) -> bool:
        return self.used >= self.max

    def count(self) -> int:
        with self._lock:
            self.used += 1
            return self.used

    def set(self, used: int | None = None, maximum: int | None = None) -> None:
        with self._lock:
            if used is not None:
                self.used = max(0, int(used))
            if maximum is not None:
                self.max = max(1, int(maximum))

    def header(self) -> str:
        """`api-usage` must come first: simple-salesforce parses nothing otherwise."""
        return f"api-usage={min(self.used, self.max)}/{self.max}"

    def limits_body(
        self, used: dict[str, int] | None = None, overrides: dict[str, dict[str, int]] | None = None
    ) -> dict[str, Any]:
        """The /limits body: {Name: {Max, Remaining}} with per-app entries like the real org.

        `used` consumes from a limit's maximum; `overrides` (the `limits` fault) sets Max/Remaining."""
        body: dict[str, Any] = {}
        names = sorted(set(LIMIT_MAXIMA) | set(overrides or {}))
        for name in names:
            maximum = LIMIT_MAXIMA.get(name, 0)
            remaining = max(0, maximum - (used or {}).get(name, 0))
            if name == "DailyApiRequests":
                maximum, remaining = self.max, max(0, self.max - self.used)
            elif name in (overrides or {}):
                maximum = overrides[name].get("Max", maximum)
                remaining = overrides[name].get("Remaining", min(remaining, maximum))
            body[name] = {"Max": maximum, "Remaining": remaining}
        body["DailyApiRequests"][APP_NAME] = {"Max": 0, "Remaining": 0}
        body["DailyBulkApiBatches"][APP_NAME] = {"Max": 0, "Remaining": 0}
        return body
