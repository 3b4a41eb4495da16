"""S3 upload of L1C CDFs (historical-process.rst "S3 upload arguments"): key layout,
the uploader with its two back ends, and the check that the stored object is ours."""
