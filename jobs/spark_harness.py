"""mrjob 0.7.4's Spark harness, with Hadoop's NLineInputFormat read as lines (see jobs/line_splits.py).

mrjob's harness reads a job's `hadoop_input_format` with `sc.hadoopFile(..., keyClass=Text,
valueClass=Text)` and keeps each pair's key as the line.  NLineInputFormat's pairs are (byte offset,
line): this module wraps `SparkContext.hadoopFile` so that, for that format only, the pairs come back
as (line, "") and the harness then sees the lines; everything else is mrjob's harness unchanged.
Lines per partition come from `spark.hadoop.mapreduce.input.lineinputformat.linespermap` (the job's
jobconf), which Spark copies into the Hadoop configuration `hadoopFile` reads.
"""
from pyspark import SparkContext

from mrjob.spark import harness

NLINE_INPUT_FORMAT = "org.apache.hadoop.mapred.lib.NLineInputFormat"
_hadoop_file = SparkContext.hadoopFile


def _offset_line_to_line(pair):
    return pair[1], ""


def hadoop_file(self, path, inputFormatClass, keyClass, valueClass, *args, **kwargs):  # noqa: N803 - pyspark's names
    if inputFormatClass == NLINE_INPUT_FORMAT:
        rdd = _hadoop_file(self, path, inputFormatClass, "org.apache.hadoop.io.LongWritable",
                           "org.apache.hadoop.io.Text", *args, **kwargs)
        return rdd.map(_offset_line_to_line)
    return _hadoop_file(self, path, inputFormatClass, keyClass, valueClass, *args, **kwargs)


SparkContext.hadoopFile = hadoop_file

if __name__ == "__main__":
    harness.main()
