"""The WeChat adapter: the only package that imports wechatpy. Others get plain values and domain errors."""
