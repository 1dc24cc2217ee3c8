"""`ccimg fetch`: from scored image URLs to stored BIG images, thumbnails and a metadata table.

The step where the model's saving becomes real (the requests it skips) and where true sizes come
back for training (the metadata table is a `ccimg train --labels` file).  Data flows one way:

  plan      input rows -> a prediction and an action per row (fetch, probe, skip), one per distinct URL
  schedule  URLs handed to threads by host, so that no thread waits on a busy host
  probing   the cheap middle step for uncertain URLs (ccimg probe's Prober)
  download  one image through the network layer: robots.txt, guard, retries, caps, early checks
  image     size, format, decompression-bomb check, thumbnails (Pillow)
  store     img2dataset layouts (files / webdataset) on a local folder or S3
  journal   what is done, for resuming
  run       the whole run: threads, progress, summary, the metadata table
"""
