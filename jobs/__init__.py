"""MapReduce jobs (mrjob): one base class that turns input lines into WARC records, small jobs on it."""
