"""The one network layer of ccimg: every byte fetched from another machine goes through here.

Why one layer: the project used to have three retry loops, two redirect loops and two address checks,
and each copy had its own gaps (one followed redirects without re-checking the address, one retried
forever).  Each concept now lives in exactly one module:

  identity   who we say we are (User-Agent, robots.txt product token)
  errors     FetchError (do not retry) and TransientError (worth retrying)
  retry      RetryPolicy: bounded exponential backoff with full jitter, Retry-After
  guard      check_url (one strict URL parser) and the public-address check, Resolver
  http       HttpClient: GET over http.client, connected only to checked addresses, one deadline
  gate       HostGate: per-host concurrency and request interval
  robots     RobotsCache: robots.txt per origin, RFC 9309
  s3         S3Reader: boto3 with our own retries and error kinds

Import from the submodules (``from network.http import HttpClient``): importing the package
itself pulls in nothing heavy (boto3 is only imported by network.s3, and lazily).
"""
