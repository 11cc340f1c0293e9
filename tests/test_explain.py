"""Heatmaps and their check (dlbook.explain) on small functional convnets whose answers are known."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from dlbook import explain


def small_convnet(classes: int = 3, seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    photos = keras.Input(shape=(32, 32, 3), name="photo")
    x = keras.layers.Rescaling(1 / 255)(photos)
    x = keras.layers.Conv2D(8, 3, activation="relu", padding="same", name="conv_a")(x)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Conv2D(16, 3, activation="relu", padding="same", name="conv_b")(x)
    x = keras.layers.Flatten()(x)
    return keras.Model(photos, keras.layers.Dense(classes, activation="softmax", name="scores")(x))


def quadrant_model() -> keras.Model:
    """A binary classifier that sees only the top-left quadrant of its 32×32 input.

    Brightness there (and only there) raises the "class 1" probability: the quadrant is cropped, padded
    back with zeros, summed by a positive convolution and a positive dense unit. A mid-grey quadrant
    gives a probability of about 0.5, a bright one more than 0.9.
    """
    photos = keras.Input(shape=(32, 32, 3))
    x = keras.layers.Cropping2D(((0, 16), (0, 16)))(photos)
    x = keras.layers.ZeroPadding2D(((0, 16), (0, 16)))(x)
    x = keras.layers.Rescaling(1 / 255)(x)
    conv = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv")
    x = conv(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    dense = keras.layers.Dense(1, activation="sigmoid", name="score")
    model = keras.Model(photos, dense(x))
    conv.set_weights([np.full((3, 3, 3, 4), 0.1, "float32"), np.zeros(4, "float32")])
    dense.set_weights([np.full((4, 1), 4.2, "float32"), np.array([-5.7], "float32")])
    return model


def photos(n: int = 2, seed: int = 1, low: float = 0.0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(low, 255, (n, 32, 32, 3)).astype("float32")


QUADRANT = np.zeros((32, 32), bool)
QUADRANT[:16, :16] = True


def tape_grad_cam(model: keras.Model, images: np.ndarray, layer_name: str, class_index) -> np.ndarray:
    """Grad-CAM at the layer's resolution, written out as Lesson 6 writes it."""
    import tensorflow as tf

    grad_model = keras.Model(model.inputs[0], [model.get_layer(layer_name).output, model.outputs[0]])
    indices = np.broadcast_to(np.asarray(class_index), (len(images),))
    with tf.GradientTape() as tape:
        feature_maps, scores = grad_model(tf.convert_to_tensor(images), training=False)
        chosen = tf.reduce_sum(scores * tf.one_hot(indices, scores.shape[-1]), axis=-1)
    weights = tf.reduce_mean(tape.gradient(chosen, feature_maps), axis=(1, 2), keepdims=True)
    return tf.nn.relu(tf.reduce_sum(weights * feature_maps, axis=-1)).numpy()


def test_upsample_maps_brings_a_hand_written_grad_cam_to_tf_keras_vis_values():
    model = explain.logit_model(small_convnet())
    images = photos(3)
    for class_index in (0, 2, [1, 0, 2]):
        raw = tape_grad_cam(model, images, "conv_b", class_index)
        assert raw.shape == (3, 16, 16) and raw.min() >= 0
        ours = explain.upsample_maps(raw, (32, 32))
        theirs = explain.heatmaps(model, images, class_index, "conv_b", methods=["Grad-CAM"])["Grad-CAM"]
        assert ours.shape == theirs.shape == (3, 32, 32)
        np.testing.assert_allclose(ours, theirs, atol=1e-4)
        assert ours.max() > 0.99  # real maps, not all zeros
    # Without scaling, only the size changes: the mean stays (bilinear interpolation of a smooth map).
    unscaled = explain.upsample_maps(np.ones((1, 4, 4)) * 3.0, (8, 8), normalize=False)
    np.testing.assert_allclose(unscaled, 3.0)


def test_grad_cam_equals_cam_on_the_layer_a_gap_head_averages():
    # With global average pooling and one dense layer on top, Grad-CAM's channel weights are the dense
    # weights divided by the number of positions, so its map is the positive part of CAM, up to scale.
    keras.utils.set_random_seed(3)
    photos_in = keras.Input(shape=(32, 32, 3))
    x = keras.layers.Rescaling(1 / 255)(photos_in)
    x = keras.layers.Conv2D(8, 3, strides=2, activation="relu", padding="same", name="last_conv")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    dense = keras.layers.Dense(1, activation="sigmoid", name="score")
    model = keras.Model(photos_in, dense(x))
    images = photos(2)
    feature_maps = np.asarray(explain.activation_model(model, ["last_conv"])(images))
    kernel, bias = dense.get_weights()
    cam = np.einsum("nhwk,k->nhw", feature_maps, kernel[:, 0])
    logits = np.log(model.predict(images, verbose=0)[:, 0]) - np.log1p(-model.predict(images, verbose=0)[:, 0])
    np.testing.assert_allclose(cam.mean(axis=(1, 2)) + bias[0], logits, rtol=1e-4, atol=1e-4)
    library = explain.heatmaps(explain.logit_model(model), images, 1, "last_conv", methods=["Grad-CAM"])["Grad-CAM"]
    np.testing.assert_allclose(explain.upsample_maps(np.maximum(cam, 0), (32, 32)), library, atol=1e-3)


def test_logit_model_keeps_the_probabilities_and_the_layer_names():
    softmax_model = small_convnet()
    logits = explain.logit_model(softmax_model)
    images = photos(4)
    np.testing.assert_allclose(keras.ops.softmax(logits.predict(images, verbose=0)),
                               softmax_model.predict(images, verbose=0), rtol=1e-5, atol=1e-6)
    assert [layer.name for layer in logits.layers[:-1]] == [layer.name for layer in softmax_model.layers[:-1]]
    # A single sigmoid unit becomes two logits whose softmax is (1 - p, p).
    binary = quadrant_model()
    two = keras.ops.softmax(explain.logit_model(binary).predict(images, verbose=0))
    np.testing.assert_allclose(two, explain.class_probabilities(binary, images), rtol=1e-5, atol=1e-6)


def test_logit_model_refuses_a_head_shared_with_another_model_until_it_is_reloaded(tmp_path):
    # A head trained on stored features and then put on a base (Lesson 5): its layers belong to two
    # graphs, and public Keras API names only the first. Saved and loaded back, the model is its own.
    pooling, dense = keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(1, activation="sigmoid")
    features = keras.Input(shape=(4, 4, 2))
    keras.Model(features, dense(pooling(features)))
    photos_in = keras.Input(shape=(8, 8, 3))
    conv = keras.layers.Conv2D(2, 3, strides=2, padding="same", name="conv")(photos_in)
    model = keras.Model(photos_in, dense(pooling(conv)))
    with pytest.raises(ValueError, match="shared between models.*load_model"):
        explain.logit_model(model)
    model.save(tmp_path / "model.keras")
    reloaded = keras.saving.load_model(tmp_path / "model.keras")
    logits = explain.logit_model(reloaded)
    assert logits.input_shape == (None, 8, 8, 3) and logits.output_shape == (None, 2)
    images = np.random.default_rng(0).uniform(0, 255, (3, 8, 8, 3)).astype("float32")
    np.testing.assert_allclose(keras.ops.softmax(logits.predict(images, verbose=0)),
                               explain.class_probabilities(model, images), rtol=1e-5, atol=1e-6)


def test_activation_model_returns_each_layers_feature_maps():
    model = small_convnet()
    maps = explain.activation_model(model, ["conv_a", "conv_b"])(photos(2))
    assert [tuple(m.shape) for m in maps] == [(2, 32, 32, 8), (2, 16, 16, 16)]


@pytest.mark.parametrize("method", explain.METHODS)
def test_every_method_ranks_the_quadrant_the_model_looks_at_first(method):
    model = quadrant_model()
    images = photos(2)
    maps = explain.heatmaps(explain.logit_model(model), images, 1, "conv", methods=[method],
                            scorecam_channels=None, smoothgrad_samples=5)[method]
    for heatmap in maps:
        top = np.argsort(heatmap.ravel())[::-1][:QUADRANT.sum()]
        # The conv layer's 3×3 kernels reach one pixel past the quadrant's edge; the rest lies inside.
        assert QUADRANT.ravel()[top].mean() > 0.85, method


def test_the_deletion_curve_falls_fastest_for_the_map_of_what_the_model_uses():
    model = quadrant_model()
    image = photos(1, low=180)[0]
    assert explain.class_probabilities(model, image[None])[0, 1] > 0.9
    assert explain.class_probabilities(model, np.full((1, 32, 32, 3), 127.5))[0, 1] < 0.6
    maps = {"right": QUADRANT.astype(float), "wrong": (~QUADRANT).astype(float),
            "random": explain.random_saliency((32, 32))}
    fractions, curves = explain.deletion_curves(model, image, maps, class_index=1, steps=8)
    areas = {name: explain.deletion_area(fractions, curve) for name, curve in curves.items()}
    assert areas["right"] < areas["random"] < areas["wrong"]
    # Deleting the quadrant (the first quarter of the pixels) removes all the evidence the model has.
    assert curves["right"][2] == pytest.approx(curves["right"][-1], abs=1e-6)
    assert curves["wrong"][6] == pytest.approx(curves["wrong"][0], abs=1e-6)
    # Grad-CAM's own map scores like the right answer.
    cam = explain.heatmaps(explain.logit_model(model), image[None], 1, "conv", methods=["Grad-CAM"])["Grad-CAM"][0]
    _, cam_curve = explain.deletion_curve(model, image, cam, class_index=1, steps=8)
    assert explain.deletion_area(fractions, cam_curve) < areas["random"]


def test_the_deletion_curve_runs_from_the_photo_to_a_blank_image():
    model = small_convnet()
    image = photos(1)[0]
    fractions, curve = explain.deletion_curve(model, image, explain.random_saliency((32, 32)), 2, steps=4)
    np.testing.assert_allclose(fractions, [0, 0.25, 0.5, 0.75, 1])
    grey = np.full_like(image, 127.5)
    expected = explain.class_probabilities(model, np.stack([image, grey]))[:, 2]
    np.testing.assert_allclose(curve[[0, -1]], expected, rtol=1e-5)
    assert explain.deletion_area(np.array([0.0, 1.0]), np.array([1.0, 0.0])) == pytest.approx(0.5)


def test_bad_arguments_are_clear_errors():
    model = small_convnet()
    with pytest.raises(ValueError, match=r"does not match the image's \(32, 32\)"):
        explain.deletion_curve(model, photos(1)[0], np.zeros((16, 16)), 0)
    with pytest.raises(ValueError, match="steps must be at least 1"):
        explain.deletion_curve(model, photos(1)[0], np.zeros((32, 32)), 0, steps=0)
    with pytest.raises(ValueError, match="unknown heatmap method"):
        explain.heatmaps(model, photos(1), 0, "conv_b", methods=["LIME"])
    pooled = keras.Model(model.inputs[0], keras.layers.Activation("relu")(model.outputs[0]))
    with pytest.raises(ValueError, match="last layer must be Dense"):
        explain.logit_model(pooled)
